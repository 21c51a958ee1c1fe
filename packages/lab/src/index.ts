import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/** How long a helper process (tcpdump) may take to start before it counts as hung: far past any slow start. */
export const START_HANG_MS = 60_000;

// The end-of-capture mark (Lab.capture's stop sends it): a broadcast frame of IEEE 802 Local Experimental Ethertype
// 1, which no stack answers, sent with a raw socket (python3 is one of setup.sh's packages).
const END_MARK_ETHERTYPE = 0x88b5;
const END_MARK_HEX = END_MARK_ETHERTYPE.toString(16);
const END_MARK_PRINTED = `ethertype Unknown (0x${END_MARK_HEX})`;
const SEND_END_MARK = [
  'import socket, sys',
  's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
  's.bind((sys.argv[1], 0))',
  `s.send(b"\\xff" * 6 + s.getsockname()[4] + bytes.fromhex("${END_MARK_HEX}") + b"ersatz lab: end of capture".ljust(46, b"\\0"))`,
].join('\n');

/** A tcpdump filter widened to let the end-of-capture mark through (an empty filter lets everything through). */
function withEndMark(filter: readonly string[]): string[] {
  return filter.length === 0 ? [] : ['(', ...filter, ')', 'or', 'ether', 'proto', `0x${END_MARK_HEX}`];
}

/** Whether a captured frame is the end-of-capture mark. */
export function isEndMark(frame: Uint8Array): boolean {
  return frame.length >= 14 && ((frame[12]! << 8) | frame[13]!) === END_MARK_ETHERTYPE;
}

/** A running tcpdump (Lab.capture). */
export interface LabCapture {
  /** Ends it once it has every frame that crossed before; returns what it printed before the end-of-capture mark. */
  stop(): Promise<string>;
}

/** Thrown when the lab cannot be built: not root, no `ip`, a kernel refusing a namespace. */
export class LabError extends Error {
  override name = 'LabError';
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when `exec` killed it at its timeout: where each of its threads was (see whereStuck). */
  readonly stuck?: string;
}

const live = new Set<Lab>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // A crashed test or a Ctrl-C must not leave namespaces behind.
  process.once('exit', () => {
    for (const lab of live) lab.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.destroy();
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

/**
 * A set of network namespaces and veth links that exists only for one test, demo or benchmark.
 * Names carry a random tag so parallel suites never collide; `destroy()` removes everything it made
 * (idempotent, also run on process exit). Commands only ever run inside the lab's own namespaces.
 */
export class Lab {
  readonly tag: string;
  readonly #namespaces: string[] = [];
  readonly #children = new Set<ChildProcess>();

  /** `prefix`: a short word (≤ 4 chars) that says who made the lab, e.g. `res`. */
  constructor(prefix = 'lab') {
    if (process.getuid?.() !== 0) throw new LabError('network namespace labs need root (ip netns add): run as root');
    this.tag = `ez${prefix.slice(0, 4)}${randomBytes(3).toString('hex')}`;
    live.add(this);
    hookExit();
  }

  /** Creates namespace `<tag>-<name>` with loopback up and returns its name. */
  namespace(name: string): string {
    const ns = `${this.tag}-${name}`;
    ip(['netns', 'add', ns]);
    this.#namespaces.push(ns);
    this.run(ns, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Creates a veth pair with one end in each namespace, both up. Interface names are at most 15 bytes.
   * `mac*` sets the link address (locally administered addresses keep fixtures clearly synthetic).
   */
  veth(a: { ns: string; ifname: string; mac?: string }, b: { ns: string; ifname: string; mac?: string }): void {
    // Create both ends directly inside their namespaces: nothing ever exists in the root namespace.
    ip(['-n', a.ns, 'link', 'add', a.ifname, ...(a.mac ? ['address', a.mac] : []), 'type', 'veth', 'peer', 'name', b.ifname, ...(b.mac ? ['address', b.mac] : []), 'netns', b.ns]);
    ip(['-n', a.ns, 'link', 'set', a.ifname, 'up']);
    ip(['-n', b.ns, 'link', 'set', b.ifname, 'up']);
  }

  /** Runs argv inside `ns` and waits; throws LabError with stderr when it exits non-zero. Returns stdout. */
  sh(ns: string, argv: readonly string[]): string {
    const r = this.run(ns, argv);
    if (r.code !== 0) throw new LabError(`${argv.join(' ')} in ${ns} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Runs argv inside `ns` synchronously and returns what happened (never throws for a non-zero exit). */
  run(ns: string, argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): RunResult {
    this.#own(ns);
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, input: opts.input, maxBuffer: 256 << 20 });
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Runs argv inside `ns` without blocking; resolves when it exits (killed after `timeoutMs`, default 60 s). */
  exec(ns: string, argv: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    const child = this.start(ns, argv, opts);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let stuck: string | undefined;
    const timer = setTimeout(() => {
      stuck = whereStuck(child.pid);
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, ...(stuck === undefined ? {} : { stuck }) });
      });
    });
  }

  /** Starts argv inside `ns` (stdio piped) and returns the child; the lab kills it on destroy. */
  start(ns: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    this.#own(ns);
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /**
   * Starts `tcpdump -i IF -l OPTIONS FILTER` inside `ns` and resolves once it is capturing (tcpdump says "listening
   * on"), so nothing sent afterwards is missed. tcpdump is the independent witness of what actually crossed the
   * veth. `stop()` ends it without losing a frame that crossed before (see #stopAfterMark) and returns what it
   * printed before the end-of-capture mark. Rejects when tcpdump exits first (saying why) or hangs (START_HANG_MS).
   */
  async capture(ns: string, ifname: string, options: readonly string[], filter: readonly string[] = []): Promise<LabCapture> {
    const child = this.start(ns, ['tcpdump', '-i', ifname, '-l', ...options, ...withEndMark(filter)]);
    let printed = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (printed += s));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      // Only a hang: with other labs being built and removed at once, tcpdump has taken over 10 s to start here.
      const timer = setTimeout(() => reject(new LabError(`tcpdump in ${ns} did not start within ${START_HANG_MS / 1000} s: ${err.trim()}`)), START_HANG_MS);
      child.stderr!.setEncoding('utf8').on('data', (s: string) => {
        err += s;
        if (err.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        reject(new LabError(`tcpdump in ${ns} exited (${code}): ${err.trim()}`));
      });
    });
    return {
      stop: async () => {
        await this.#stopAfterMark(child, ns, ifname, () => printed);
        await closed;
        const mark = printed.indexOf(END_MARK_PRINTED);
        return mark < 0 ? printed : printed.slice(0, printed.lastIndexOf('\n', mark) + 1);
      },
    };
  }

  /**
   * tcpdump on `ifname` inside `ns` (numeric, with link-level headers, immediate mode): `stop()` returns the one-line
   * summaries of every frame it saw.
   */
  async tcpdump(ns: string, ifname: string, filter: readonly string[] = []): Promise<{ stop(): Promise<string[]> }> {
    const capture = await this.capture(ns, ifname, ['-n', '-e', '--immediate-mode', '-s', '256'], filter);
    return { stop: async () => (await capture.stop()).split('\n').filter((l) => l.trim() !== '') };
  }

  /**
   * Stops a tcpdump capturing on `ifname` in `ns` once it has read every frame that crossed before: sends the
   * end-of-capture mark out of `ifname` (capture's filter lets it through: withEndMark), waits until `printed()` (what
   * tcpdump has printed) shows it, then sends SIGINT. tcpdump prints frames in the order it reads them, so everything
   * before the mark has been read (a fixed grace before SIGINT raced the scheduler whenever another process held the
   * CPU).
   */
  async #stopAfterMark(child: ChildProcess, ns: string, ifname: string, printed: () => string): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      this.sh(ns, ['python3', '-c', SEND_END_MARK, ifname]);
      // Output that arrived while sh blocked is delivered after it: listening from here misses none.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new LabError(`tcpdump in ${ns} did not print the end-of-capture mark within ${START_HANG_MS / 1000} s`)), START_HANG_MS);
        const check = () => {
          if (!printed().includes(END_MARK_PRINTED)) return;
          clearTimeout(timer);
          child.stdout?.off('data', check);
          resolve();
        };
        child.stdout?.on('data', check);
        check();
      });
    } finally {
      child.kill('SIGINT');
    }
  }

  /** The MAC of `ifname` in `ns`, as `ip link` reports it. */
  mac(ns: string, ifname: string): string {
    const [link] = JSON.parse(this.sh(ns, ['ip', '-j', 'link', 'show', 'dev', ifname])) as [{ address: string }];
    return link.address;
  }

  /**
   * Host names for the processes run in `ns` (name → IPv4 address): its own /etc/hosts, which `ip netns exec` mounts
   * over the machine's (from /etc/netns/NS/). Its resolv.conf names the namespace's own loopback, so a name not
   * listed is asked of nobody outside the lab. Removed with the lab.
   */
  hosts(ns: string, names: Readonly<Record<string, string>>): void {
    this.#own(ns);
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    const lines = Object.entries(names).map(([name, ip]) => `${ip}\t${name}\n`);
    writeFileSync(`/etc/netns/${ns}/hosts`, `127.0.0.1\tlocalhost\n${lines.join('')}`);
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  }

  /** Kills the lab's children and deletes its namespaces (which deletes their veths). Safe to call twice. */
  destroy(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    this.#children.clear();
    for (const ns of this.#namespaces.splice(0)) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true }); // hosts(), if any: ip netns del leaves it
    }
    live.delete(this);
  }

  #own(ns: string): void {
    // The network rule: nothing runs outside a namespace this lab made.
    if (!this.#namespaces.includes(ns)) throw new LabError(`namespace ${ns} is not part of lab ${this.tag}`);
  }
}

function ip(args: readonly string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new LabError(`ip ${args.join(' ')}: ${stderr || (err as Error).message}`);
  }
}

export interface Host {
  readonly ns: string;
  readonly ifname: string;
  readonly ip: string;
  readonly mac: string;
}

/**
 * The standard two-host lab: `host` (where ersatz runs) and `peer` (a plain Linux kernel) on one veth link,
 * 198.51.100.0/24 (RFC 5737 TEST-NET-2). The host's default route points at the peer, so the peer is also
 * the default gateway. Returns the lab (destroy it!) and both ends.
 */
export function twoHostLab(prefix: string, opts: { subnet?: string } = {}): { lab: Lab; host: Host; peer: Host } {
  const lab = new Lab(prefix);
  try {
    const base = (opts.subnet ?? '198.51.100.0/24').replace(/\.0\/24$/, '');
    const hostNs = lab.namespace('h');
    const peerNs = lab.namespace('p');
    const host = { ns: hostNs, ifname: 'ez0', ip: `${base}.1` };
    const peer = { ns: peerNs, ifname: 'ez1', ip: `${base}.2` };
    // The kernel picks random MACs: a test that passes must have read the real one off the wire.
    lab.veth({ ns: host.ns, ifname: host.ifname }, { ns: peer.ns, ifname: peer.ifname });
    lab.sh(host.ns, ['ip', 'addr', 'add', `${host.ip}/24`, 'dev', host.ifname]);
    lab.sh(peer.ns, ['ip', 'addr', 'add', `${peer.ip}/24`, 'dev', peer.ifname]);
    lab.sh(host.ns, ['ip', 'route', 'add', 'default', 'via', peer.ip]);
    return { lab, host: { ...host, mac: lab.mac(host.ns, host.ifname) }, peer: { ...peer, mac: lab.mac(peer.ns, peer.ifname) } };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

export interface ResponderLab {
  readonly lab: Lab;
  /** Where ersatz runs: `ifname` with `ip`/`prefixLen` inside `cidr`. */
  readonly host: Host & { readonly prefixLen: number };
  /** One per responder: its namespace, interface, MAC and the range its kernel answers ARP for. */
  readonly responders: readonly (Host & { readonly answers: string })[];
}

/**
 * A host and kernel responders that answer ARP for whole ranges (default: all of 10.77.0.0/16, 65534 hosts).
 * Each responder makes its range local (`ip route add local RANGE dev lo table local`) and takes requests whose
 * sender is one of "its own" addresses (`accept_local=1`), so its kernel answers every address in the range.
 * One responder: a direct veth. Several (to stage duplicate answers): all on a bridge in a switch namespace.
 */
export function responderLab(prefix: string, opts: { cidr?: string; answers?: readonly string[] } = {}): ResponderLab {
  const cidr = opts.cidr ?? '10.77.0.0/16';
  const [net, bits] = cidr.split('/') as [string, string];
  const answers = opts.answers ?? [cidr];
  const lab = new Lab(prefix);
  try {
    const hostNs = lab.namespace('h');
    const hostIp = net.replace(/\.0$/, '.1');
    let attach: (ns: string, ifname: string) => void;
    if (answers.length === 1) {
      attach = (ns, ifname) => lab.veth({ ns: hostNs, ifname: 'ez0' }, { ns, ifname });
    } else {
      const sw = lab.namespace('sw');
      lab.sh(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
      lab.sh(sw, ['ip', 'link', 'set', 'br0', 'up']);
      let port = 0;
      const plug = (ns: string, ifname: string) => {
        const swPort = `p${port++}`;
        lab.veth({ ns, ifname }, { ns: sw, ifname: swPort });
        lab.sh(sw, ['ip', 'link', 'set', swPort, 'master', 'br0']);
      };
      plug(hostNs, 'ez0');
      attach = plug;
    }
    const responders = answers.map((range, i) => {
      const ns = lab.namespace(`r${i}`);
      const ifname = 'ez1';
      attach(ns, ifname);
      lab.sh(ns, ['ip', 'route', 'add', 'local', range, 'dev', 'lo', 'table', 'local']);
      // The route lookup in arp_process validates the request's sender, which is "local" here: allow it.
      lab.sh(ns, ['sysctl', '-q', '-w', `net.ipv4.conf.${ifname}.accept_local=1`, 'net.ipv4.conf.all.accept_local=1']);
      // Replies must leave through ez1 towards the host: an on-link route for the whole subnet.
      lab.sh(ns, ['ip', 'route', 'add', cidr, 'dev', ifname, 'table', 'main']);
      return { ns, ifname, ip: range, answers: range, mac: lab.mac(ns, ifname) };
    });
    lab.sh(hostNs, ['ip', 'addr', 'add', `${hostIp}/${bits}`, 'dev', 'ez0']);
    return { lab, host: { ns: hostNs, ifname: 'ez0', ip: hostIp, prefixLen: Number(bits), mac: lab.mac(hostNs, 'ez0') }, responders };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

/**
 * Where a process that outlived its timeout is, read from /proc before it is killed: its command line, each
 * thread's name, state and kernel wait channel, and the main thread's kernel stack, so that a hang in
 * `ip netns exec`, in Node's start-up or in a system call tell apart at a glance.
 */
function whereStuck(pid: number | undefined): string {
  if (pid === undefined) return 'no pid';
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '?';
    }
  };
  const lines = [`cmdline: ${read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim()}`];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return `${lines[0]} (gone)`;
  }
  for (const tid of tasks) {
    // stat: "tid (comm) state ..."; comm may hold spaces, so split after its closing parenthesis.
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    lines.push(`${tid} ${comm} ${state} wchan=${read(`/proc/${pid}/task/${tid}/wchan`)}`);
  }
  lines.push(`main thread's kernel stack:\n${read(`/proc/${pid}/stack`).trim()}`);
  return lines.join('\n');
}
