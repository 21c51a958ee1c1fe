// The platform choices of the Windows paths that need no network: which pcap library each platform loads, which
// backends each defaults to, what the errors tell a Windows user, and how libpcap's send errors are named.
// The Windows branches run here only as values (platform passed in); nothing in them has run on Windows.
import test from 'ava';
import { defaultCaptureWait, libraryHint, permissionHint } from '@ersatz/capture-worker';
import { libpcap, pcapLibraryNames } from '@ersatz/os/libpcap';
import { defaultTransmitVia, sendErrorCode } from '@ersatz/transmit-worker';
import { Pipeline, PipelineOptionError } from '@ersatz/pipeline';

test('win32 loads wpcap.dll by its full path in System32, from SystemRoot', (t) => {
  t.deepEqual(pcapLibraryNames('win32', { SystemRoot: 'D:\\WINNT' }), ['D:\\WINNT\\System32\\wpcap.dll']);
  t.deepEqual(pcapLibraryNames('win32', { windir: 'C:\\Windows' }), ['C:\\Windows\\System32\\wpcap.dll']);
  t.deepEqual(pcapLibraryNames('win32', {}), ['C:\\Windows\\System32\\wpcap.dll']);
});

test('elsewhere the runtime package’s versioned libpcap comes before the -dev package’s bare name', (t) => {
  t.deepEqual(pcapLibraryNames('linux', {}), ['libpcap.so.0.8', 'libpcap.so.1', 'libpcap.so']);
});

test('on this Linux libpcap() loads one of those names, with a selectable descriptor and no Win32 event', (t) => {
  const lib = libpcap((tried) => new Error(tried));
  t.true(pcapLibraryNames().includes(lib.loaded), lib.loaded);
  t.is(typeof lib.selectableFd, 'function');
  t.is(lib.getevent, undefined);
  t.is(typeof lib.sendpacket, 'function');
});

test('backend defaults: pcap and the wait-loop on win32, the packet socket and the selectable fd elsewhere', (t) => {
  t.is(defaultTransmitVia('win32'), 'pcap');
  t.is(defaultTransmitVia('linux'), 'packet-socket');
  t.is(defaultCaptureWait('win32'), 'wait-loop');
  t.is(defaultCaptureWait('linux'), 'selectable-fd');
  t.is(defaultTransmitVia(), 'packet-socket', 'this machine keeps the Linux default');
});

test('a Windows user is told to elevate or install Npcap in WinPcap-compatible mode; a Linux user about CAP_NET_RAW', (t) => {
  t.regex(permissionHint('win32'), /Run as administrator/);
  t.regex(libraryHint('win32'), /Npcap.*WinPcap API-compatible Mode/);
  t.regex(permissionHint('linux'), /CAP_NET_RAW \(setcap cap_net_raw/);
  t.regex(libraryHint('linux'), /apt-get install libpcap0\.8/);
});

test('send errors are named from libpcap’s words when no errno comes with them', (t) => {
  t.is(sendErrorCode('send: Network is down'), 'ENETDOWN');
  t.is(sendErrorCode('send: No such device or address'), 'ENXIO');
  t.is(sendErrorCode('send: Message too long'), 'EMSGSIZE');
  t.is(sendErrorCode('send error: PacketSendPacket failed: The network location cannot be reached.'), 'ENETDOWN');
  t.is(sendErrorCode('send error: PacketSendPacket failed: The specified network resource or device is no longer available.'), 'ENXIO');
  t.is(sendErrorCode('something else'), 'EIO');
});

test('Pipeline.open refuses unknown backends before starting anything', async (t) => {
  const bad = [{ transmitVia: 'raw' }, { captureWaitVia: 'busy-loop' }] as const;
  for (const o of bad) {
    const err = await t.throwsAsync(Pipeline.open({ ifname: 'ez0', ...(o as object) }));
    t.true(err instanceof PipelineOptionError, String(err));
    t.regex(err!.message, Object.keys(o)[0] === 'transmitVia' ? /transmitVia.*'packet-socket' or 'pcap'/ : /captureWaitVia.*'selectable-fd' or 'wait-loop'/);
  }
});
