import test from 'ava';
import { Ipv4, Mac } from '@ersatz/wire';
import {
  selectInterface, findAdapter, toNeighbours, neighbours, discoverInterface, neighAdd, neighDelete, resolveNeighbour,
  DiscoveryError, InterfaceNotFoundError, Win32Error, IfOperStatus, IfType, type Adapter, type IpNetRow,
} from '@ersatz/win32';

// The choices discovery makes, over adapter lists as parseAdapterAddresses returns them (RFC 5737 addresses).
const ip = (s: string): Ipv4 => Ipv4.parse(s);
const ethernet: Adapter = {
  ifindex: 12, luid: 0x0006000005000000n, adapterName: '{3F2A1C4E-0B7D-4E8A-9C61-2D5F7A8B9C01}', device: '\\Device\\NPF_{3F2A1C4E-0B7D-4E8A-9C61-2D5F7A8B9C01}',
  friendlyName: 'Ethernet', description: 'Intel(R) Ethernet I219', mac: Mac.parse('02:00:5e:00:53:01'), mtu: 1500, ifType: IfType.ETHERNET_CSMACD,
  operStatus: IfOperStatus.UP, ipv4Metric: 25, unicast: [{ ip: ip('198.51.100.1'), prefixLen: 24 }], gateways: [ip('198.51.100.2')],
};
const wifi: Adapter = {
  ifindex: 17, luid: 0x0047000002000000n, adapterName: '{9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B02}', device: '\\Device\\NPF_{9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B02}',
  friendlyName: 'Wi-Fi', description: 'Wireless', mac: Mac.parse('02:a5:80:ff:7f:c3'), mtu: 1500, ifType: IfType.IEEE80211,
  operStatus: IfOperStatus.UP, ipv4Metric: 35, unicast: [{ ip: ip('192.0.2.77'), prefixLen: 24 }, { ip: ip('203.0.113.130'), prefixLen: 25 }], gateways: [ip('192.0.2.1')],
};
const loopback: Adapter = {
  ifindex: 1, luid: 0x0018000000000000n, adapterName: '{LOOPBACK}', device: '\\Device\\NPF_{LOOPBACK}', friendlyName: 'Loopback Pseudo-Interface 1', description: '',
  mac: null, mtu: 4294967295, ifType: IfType.SOFTWARE_LOOPBACK, operStatus: IfOperStatus.UP, ipv4Metric: 75, unicast: [{ ip: ip('127.0.0.1'), prefixLen: 8 }], gateways: [],
};
const all = [loopback, wifi, ethernet];

test('with no options the up adapter with a gateway and the lowest metric wins, resolving its gateway', (t) => {
  t.deepEqual(selectInterface(all, {}), {
    ifname: ethernet.device, ifindex: 12, mac: ethernet.mac, ip: ip('198.51.100.1'), prefixLen: 24, addresses: [ip('198.51.100.1')], gateway: ip('198.51.100.2'), target: ip('198.51.100.2'),
  });
  t.is(selectInterface([loopback, wifi, { ...ethernet, operStatus: IfOperStatus.DOWN }], {}).ifindex, 17);
});

test('an adapter is named by Npcap device, GUID or friendly name, in any case', (t) => {
  for (const name of [wifi.device, wifi.adapterName.toLowerCase(), 'wi-fi', 'Wi-Fi']) t.is(findAdapter(all, name), wifi, name);
  const err = t.throws(() => findAdapter(all, 'eth9'), { instanceOf: InterfaceNotFoundError });
  t.is(err?.message, 'no IPv4 adapter named "eth9": use one of "Loopback Pseudo-Interface 1", "Wi-Fi", "Ethernet"');
});

test('the address is the route source, else the one on the target subnet, else the first', (t) => {
  // GetBestRoute2 said: leave by Wi-Fi from 203.0.113.130.
  t.like(selectInterface(all, { target: ip('198.18.0.9') }, { ifindex: 17, source: ip('203.0.113.130') }), { ifname: wifi.device, ip: ip('203.0.113.130'), prefixLen: 25, gateway: ip('192.0.2.1'), target: ip('198.18.0.9') });
  t.like(selectInterface(all, { ifname: 'Wi-Fi', target: ip('203.0.113.140') }), { ip: ip('203.0.113.130'), prefixLen: 25 });
  t.like(selectInterface(all, { ifname: 'Wi-Fi', target: ip('198.18.0.9') }), { ip: ip('192.0.2.77'), prefixLen: 24 });
});

test('discovery says what is missing and what to pass', (t) => {
  t.throws(() => selectInterface(all, { target: ip('198.51.100.9') }, { ifindex: 99, source: null }), { instanceOf: DiscoveryError, message: 'the route to 198.51.100.9 leaves by ifindex 99, which has no IPv4 adapter: pass --interface' });
  t.throws(() => selectInterface(all, { ifname: 'Loopback Pseudo-Interface 1', target: ip('127.0.0.2') }), { instanceOf: DiscoveryError, message: /has no Ethernet address \(loopback or tunnel\)/ });
  t.throws(() => selectInterface([{ ...wifi, operStatus: IfOperStatus.DOWN }], { ifname: 'Wi-Fi' }), { instanceOf: DiscoveryError, message: 'Wi-Fi (ifindex 17) is not up (OperStatus 2): connect it or pick another with --interface' });
  t.throws(() => selectInterface([{ ...wifi, gateways: [] }], { ifname: 'Wi-Fi' }), { instanceOf: DiscoveryError, message: 'Wi-Fi (ifindex 17) has no default gateway: pass --target' });
  t.throws(() => selectInterface([{ ...wifi, unicast: [] }], { ifname: 'Wi-Fi' }), { instanceOf: DiscoveryError, message: /has no IPv4 address: configure one/ });
  t.throws(() => selectInterface([loopback, { ...ethernet, gateways: [] }], {}), { instanceOf: DiscoveryError, message: 'no adapter that is up has an IPv4 address and a default gateway: pass --interface and --target' });
});

test('neighbour rows are named by the Npcap device of their interface', (t) => {
  const row = (ifindex: number): IpNetRow => ({ ip: ip('198.51.100.2'), ifindex, luid: 0n, mac: Mac.parse('02:00:5e:00:53:02'), state: 'REACHABLE', isRouter: true, isUnreachable: false, reachabilityMs: 10 });
  t.deepEqual(toNeighbours([row(12), row(5)], all), [
    { ip: ip('198.51.100.2'), mac: Mac.parse('02:00:5e:00:53:02'), ifindex: 12, ifname: ethernet.device, state: 'REACHABLE', isRouter: true },
    { ip: ip('198.51.100.2'), mac: Mac.parse('02:00:5e:00:53:02'), ifindex: 5, ifname: '', state: 'REACHABLE', isRouter: true },
  ]);
});

test('off Windows the calls reject with a Win32Error instead of loading iphlpapi.dll', async (t) => {
  if (process.platform === 'win32') return t.pass('this is Windows');
  for (const call of [() => neighbours(), () => discoverInterface(), () => neighDelete({ ip: ip('198.51.100.2') }), () => resolveNeighbour(ip('198.51.100.2'))]) {
    await t.throwsAsync(call, { instanceOf: Win32Error, message: `@ersatz/win32 calls the Windows IP Helper API and this is ${process.platform}: use the Linux backend (netlink, ioctl) here` });
  }
  // Arguments are checked before the platform: the same mistake gives the same answer everywhere.
  await t.throwsAsync(() => neighAdd({ ip: ip('224.0.0.251'), mac: Mac.parse('02:00:5e:00:53:02') }), { message: '224.0.0.251 is not a unicast host address: give the neighbour\'s IPv4 address' });
});
