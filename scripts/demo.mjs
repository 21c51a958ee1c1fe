// `npm run demo`: the whole point of ersatz in one minute, inside a throwaway two-namespace lab.
// host (ersatz runs here) --veth-- peer (a plain Linux kernel, also the host's default gateway).
// Nothing is sent outside the lab: every command runs in the lab's own namespaces.
import { twoHostLab } from '@ersatz/lab';

const { lab, host, peer } = twoHostLab('demo');
let failed = false;
try {
  console.log(`lab: ${host.ns} (${host.ifname} ${host.ip}) <-> ${peer.ns} (${peer.ifname} ${peer.ip}, default gateway)\n`);
  const show = (title, argv) => {
    console.log(`$ ip netns exec ${host.ns} ${argv.join(' ')}   # ${title}`);
    const r = lab.run(host.ns, argv, { timeoutMs: 20_000 });
    process.stdout.write(r.stdout);
    process.stdout.write(r.stderr);
    console.log(`(exit ${r.code})\n`);
    return r;
  };
  const gw = show('no target: resolve the default gateway', ['node', 'dist/main.js']);
  const json = show('a target, as JSON', ['node', 'dist/main.js', '--target', peer.ip, '--json']);
  const truth = lab.mac(peer.ns, peer.ifname);
  console.log(`peer's real MAC (ip -n ${peer.ns} link show ${peer.ifname}): ${truth}`);
  const got = json.code === 0 ? JSON.parse(json.stdout).mac : null;
  console.log(`ersatz resolved:                                  ${got ?? '(nothing)'}`);
  failed = gw.code !== 0 || got !== truth;
  console.log(failed ? '\nMISMATCH' : '\nmatch: ersatz read the peer kernel\'s real MAC off the wire');
  show('a silent address: no reply, exit 1', ['node', 'dist/main.js', '--target', '198.51.100.99', '--tries', '2', '--timeout', '300']);
} finally {
  lab.destroy();
  console.log(`lab removed (${host.ns}, ${peer.ns})`);
}
process.exitCode = failed ? 1 : 0;
