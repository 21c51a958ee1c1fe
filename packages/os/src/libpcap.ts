// libpcap through koffi, for the capture worker and the transmit worker's pcap backend. Why not `cap`: its binding registers its poll handle on
// uv_default_loop(), which is the MAIN thread's loop even when a worker opens it, so the first packet calls into the
// worker's isolate from the main thread and node aborts ("Cannot create a handle without a HandleScope", measured).
// It also fixes snaplen at 65535 (64 KiB ring slots, ~1000 frames in 64 MiB), exposes no drop counts, and asserts
// (aborting the process) when the interface goes down. koffi loads in any number of threads and gives us all of
// libpcap: our own snaplen, pcap_stats, errors as return codes, and koffi.node.poll on the worker's own loop.
import { win32 } from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';

/**
 * The libpcap shared library to load, in order of preference, on `platform`. The one place that names it: the
 * capture worker and the transmit worker's pcap backend both load through libpcap() below.
 *
 * - win32: `wpcap.dll` by its full path in System32 (`%SystemRoot%\System32`), where Npcap's WinPcap API-compatible
 *   mode installs it. A full path, not the bare name: the DLL search would also look in the working directory and
 *   on PATH, and a capture library is a bad thing to pick up from there.
 * - elsewhere: the versioned names first, since only they ship with the runtime package (libpcap0.8 on Debian,
 *   libpcap on Fedora); the bare `libpcap.so` exists only with the -dev package.
 */
export function pcapLibraryNames(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] {
  if (platform === 'win32') return [win32.join(env['SystemRoot'] ?? env['windir'] ?? 'C:\\Windows', 'System32', 'wpcap.dll')];
  return ['libpcap.so.0.8', 'libpcap.so.1', 'libpcap.so'];
}

/** libpcap's return codes (pcap/pcap.h) that we tell apart. */
export const PcapStatus = {
  ERROR: -1,
  BREAK: -2,
  NO_SUCH_DEVICE: -5,
  PERM_DENIED: -8,
  IFACE_NOT_UP: -9,
  PROMISC_PERM_DENIED: -11,
} as const;

/** The errno name a pcap_activate failure `status` stands for (EIO for any other). */
export function activateErrorCode(status: number): 'ENODEV' | 'EPERM' | 'ENETDOWN' | 'EIO' {
  switch (status) {
    case PcapStatus.NO_SUCH_DEVICE:
      return 'ENODEV';
    case PcapStatus.PERM_DENIED:
    case PcapStatus.PROMISC_PERM_DENIED:
      return 'EPERM';
    case PcapStatus.IFACE_NOT_UP:
      return 'ENETDOWN';
    default:
      return 'EIO';
  }
}

/** DLT_EN10MB: Ethernet (and everything that frames like it: veth, bridges, VLAN devices, most wifi in managed mode). */
export const DLT_EN10MB = 1;
/** pcap_direction_t: frames received by this host only. */
export const PCAP_D_IN = 1;
/** pcap_compile's "no netmask" (only `ip broadcast` filters need one). */
const PCAP_NETMASK_UNKNOWN = 0xffffffff;
const PCAP_ERRBUF_SIZE = 256;

/** Where the fields of `struct pcap_pkthdr` live (timeval first: 16 bytes on LP64, 8 on 32-bit). */
const PktHdr = koffi.struct('ersatz_pcap_pkthdr', { tv_sec: 'long', tv_usec: 'long', caplen: 'uint32_t', len: 'uint32_t' });
// As bigints: the capture callback adds them to the header pointer for every frame.
export const PKTHDR_CAPLEN = BigInt(koffi.offsetof(PktHdr, 'caplen'));
export const PKTHDR_LEN = BigInt(koffi.offsetof(PktHdr, 'len'));
export const PKTHDR_USEC = BigInt(koffi.offsetof(PktHdr, 'tv_usec'));
/** The header's size, and caplen's and len's places in it as 32-bit words (for a Uint32Array over a header). */
export const PKTHDR_BYTES = koffi.sizeof(PktHdr);
export const PKTHDR_CAPLEN_WORD = koffi.offsetof(PktHdr, 'caplen') / 4;
export const PKTHDR_LEN_WORD = koffi.offsetof(PktHdr, 'len') / 4;

// Registered by name: the pcap_compile/setfilter/freecode prototypes below refer to it.
koffi.struct('ersatz_bpf_program', { bf_len: 'uint32_t', bf_insns: 'void *' });
/** `void (*pcap_handler)(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)`, all as raw pointers:
 * decoding the header into an object per packet would cost an allocation we do not need. */
export const PcapHandler = koffi.proto('void ersatz_pcap_handler(void *user, void *h, void *bytes)');

export type Pointer = bigint;

/** The libpcap functions the capture worker and the transmit worker's pcap backend use. */
export interface Libpcap {
  /** Which file was loaded (see pcapLibraryNames). */
  readonly loaded: string;
  create(device: string, errbuf: Uint8Array): Pointer | null;
  /** A handle for compiling filters only (no device): pcap_compile on it, then pcap_close. */
  openDead(linkType: number, snaplen: number): Pointer | null;
  setSnaplen(p: Pointer, v: number): number;
  setPromisc(p: Pointer, v: number): number;
  setImmediateMode(p: Pointer, v: number): number;
  setBufferSize(p: Pointer, v: number): number;
  setTimeout(p: Pointer, ms: number): number;
  activate(p: Pointer): number;
  setNonblock(p: Pointer, v: number, errbuf: Uint8Array): number;
  compile(p: Pointer, out: Record<string, unknown>, filter: string, optimize: number, netmask: number): number;
  setFilter(p: Pointer, prog: Record<string, unknown>): number;
  /** After activate: PCAP_D_IN keeps only frames this host receives. -1 where the platform cannot (pcap_geterr). */
  setDirection(p: Pointer, d: number): number;
  freeCode(prog: Record<string, unknown>): void;
  datalink(p: Pointer): number;
  /** Absent on Windows: wpcap.dll has no pcap_get_selectable_fd (a capture there waits on pcap_getevent). */
  selectableFd: ((p: Pointer) => number) | undefined;
  /** Windows only (WinPcap/Npcap): the Win32 event HANDLE signalled when frames are waiting. */
  getevent: ((p: Pointer) => Pointer) | undefined;
  dispatch(p: Pointer, count: number, cb: Pointer, user: null): number;
  stats(p: Pointer, out: Uint32Array): number;
  geterr(p: Pointer): string;
  /** 0 when the frame went out, -1 otherwise (pcap_geterr says why). In WinPcap, Npcap and libpcap alike. */
  sendpacket(p: Pointer, frame: Uint8Array, len: number): number;
  close(p: Pointer): void;
}

let lib: Libpcap | undefined;

/**
 * Loads libpcap (wpcap.dll on Windows, see pcapLibraryNames) once per thread. Returns the bound functions; when none
 * of the names loads, throws what `failure` makes of the list of names tried and why (each worker its own ELIBACC).
 */
export function libpcap(failure: (tried: string) => Error): Libpcap {
  if (lib) return lib;
  let h: LibraryHandle | undefined;
  const tried: string[] = [];
  let loaded: string | undefined;
  for (const name of pcapLibraryNames()) {
    try {
      h = koffi.load(name);
      loaded = name;
      break;
    } catch (err) {
      tried.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (!h) throw failure(tried.join('; '));
  pinLibrary(loaded!);
  lib = {
    loaded: loaded!,
    create: h.func('void *pcap_create(const char *device, _Out_ uint8_t *errbuf)'),
    openDead: h.func('void *pcap_open_dead(int linktype, int snaplen)'),
    setSnaplen: h.func('int pcap_set_snaplen(void *p, int snaplen)'),
    setPromisc: h.func('int pcap_set_promisc(void *p, int promisc)'),
    setImmediateMode: h.func('int pcap_set_immediate_mode(void *p, int immediate)'),
    setBufferSize: h.func('int pcap_set_buffer_size(void *p, int bytes)'),
    setTimeout: h.func('int pcap_set_timeout(void *p, int ms)'),
    activate: h.func('int pcap_activate(void *p)'),
    setNonblock: h.func('int pcap_setnonblock(void *p, int nonblock, _Out_ uint8_t *errbuf)'),
    compile: h.func('int pcap_compile(void *p, _Out_ ersatz_bpf_program *fp, const char *str, int optimize, uint32_t netmask)'),
    setFilter: h.func('int pcap_setfilter(void *p, ersatz_bpf_program *fp)'),
    setDirection: h.func('int pcap_setdirection(void *p, int d)'),
    freeCode: h.func('void pcap_freecode(ersatz_bpf_program *fp)'),
    datalink: h.func('int pcap_datalink(void *p)'),
    selectableFd: process.platform === 'win32' ? undefined : h.func('int pcap_get_selectable_fd(void *p)'),
    getevent: process.platform === 'win32' ? h.func('void *pcap_getevent(void *p)') : undefined,
    dispatch: h.func('int pcap_dispatch(void *p, int cnt, ersatz_pcap_handler *callback, void *user)'),
    stats: h.func('int pcap_stats(void *p, _Out_ uint32_t *ps)'),
    geterr: h.func('const char *pcap_geterr(void *p)'),
    sendpacket: h.func('int pcap_sendpacket(void *p, const uint8_t *buf, int size)'),
    close: h.func('void pcap_close(void *p)'),
  };
  return lib;
}

/**
 * Keeps libpcap mapped for the life of the process. koffi unloads a library when the thread that loaded it exits,
 * and the next load may map it elsewhere: a pcap_t left open by a dead capture worker then holds function pointers
 * into unmapped memory, and closing it from the successor crashed the process (SIGSEGV in pcap_close, measured in 5
 * of 6 capture restarts). One extra dlopen reference with RTLD_NODELETE pins every later load to the same address.
 */
function pinLibrary(name: string): void {
  if (process.platform === 'win32') {
    // The same on Windows: GetModuleHandleExW with GET_MODULE_HANDLE_EX_FLAG_PIN keeps the DLL loaded until exit.
    try {
      const k32 = koffi.load('kernel32.dll');
      const pin = k32.func('bool __stdcall GetModuleHandleExW(uint32_t flags, const char16_t *name, _Out_ void **module)');
      if (!pin(0x1, name, [null])) pinFailed = true;
    } catch {
      pinFailed = true;
    }
    return;
  }
  const RTLD_NOW = 0x2;
  const RTLD_NODELETE = 0x1000; // glibc and musl
  try {
    koffi.load(null).func('void *dlopen(const char *file, int mode)')(name, RTLD_NOW | RTLD_NODELETE);
  } catch {
    // No dlopen symbol to call (not glibc/musl): orphaned handles are then leaked rather than closed, see capture.ts.
    pinFailed = true;
  }
}

/** True when pinLibrary could not pin libpcap: closing another thread's handle is then unsafe. */
export let pinFailed = false;

/** A fresh error buffer for the calls that take one. */
export function errbuf(): Uint8Array {
  return new Uint8Array(PCAP_ERRBUF_SIZE);
}

/** The NUL-terminated text libpcap wrote into `buf`. */
export function errbufText(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return Buffer.from(buf.buffer, buf.byteOffset, end < 0 ? buf.length : end).toString('utf8').trim();
}

export { PCAP_NETMASK_UNKNOWN };
