import type koffiModule from 'koffi';
import { Win32Error } from './error.js';

type Koffi = typeof koffiModule;

/** The iphlpapi.dll entry points ersatz calls, bound through koffi. Buffers pass in place; `bigint`s are native pointers. */
export interface IpHlpApi {
  readonly koffi: Koffi;
  GetAdaptersAddresses(family: number, flags: number, reserved: null, buffer: bigint, size: [number]): number;
  GetBestRoute2(luid: null, ifindex: number, source: null, destination: Uint8Array, sortOptions: number, bestRoute: Uint8Array, bestSource: Uint8Array): number;
  GetIpNetTable2(family: number, table: [bigint | null]): number;
  FreeMibTable(memory: bigint): void;
  /** Waits for ARP (seconds when nobody answers), so only the non-blocking form is exposed. */
  ResolveIpNetEntry2Async(row: Uint8Array, source: null): Promise<number>;
  CreateIpNetEntry2(row: Uint8Array): number;
  DeleteIpNetEntry2(row: Uint8Array): number;
}

let bound: Promise<IpHlpApi> | undefined;

/**
 * Loads iphlpapi.dll on first use (never at import, so the package imports cleanly on Linux and macOS).
 * Returns the bound functions. Rejects with Win32Error anywhere but Windows.
 */
export function iphlpapi(): Promise<IpHlpApi> {
  if (process.platform !== 'win32') return Promise.reject(new Win32Error(`@ersatz/win32 calls the Windows IP Helper API and this is ${process.platform}: use the Linux backend (netlink, ioctl) here`));
  bound ??= (async () => {
    const { default: koffi } = await import('koffi');
    const lib = koffi.load('iphlpapi.dll');
    // NETIOAPI_API is WINAPI (__stdcall); koffi ignores the convention on x64 and arm64, and honours it on x86.
    const resolve = lib.func('uint32_t __stdcall ResolveIpNetEntry2(uint8_t *Row, void *SourceAddress)');
    return {
      koffi,
      GetAdaptersAddresses: lib.func('uint32_t __stdcall GetAdaptersAddresses(uint32_t Family, uint32_t Flags, void *Reserved, void *AdapterAddresses, _Inout_ uint32_t *SizePointer)'),
      GetBestRoute2: lib.func('uint32_t __stdcall GetBestRoute2(void *InterfaceLuid, uint32_t InterfaceIndex, void *SourceAddress, uint8_t *DestinationAddress, uint32_t AddressSortOptions, uint8_t *BestRoute, uint8_t *BestSourceAddress)'),
      GetIpNetTable2: lib.func('uint32_t __stdcall GetIpNetTable2(uint16_t Family, _Out_ void **Table)'),
      FreeMibTable: lib.func('void __stdcall FreeMibTable(void *Memory)'),
      ResolveIpNetEntry2Async: (row, source) =>
        new Promise<number>((ok, fail) => resolve.async(row, source, (err: unknown, code: number) => (err ? fail(err) : ok(code)))),
      CreateIpNetEntry2: lib.func('uint32_t __stdcall CreateIpNetEntry2(uint8_t *Row)'),
      DeleteIpNetEntry2: lib.func('uint32_t __stdcall DeleteIpNetEntry2(uint8_t *Row)'),
    } satisfies IpHlpApi;
  })();
  return bound;
}
