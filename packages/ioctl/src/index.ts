export { arpSet, arpGet, arpDelete, errorFor, SIOCSARP, SIOCGARP, SIOCDARP, type ArpEntry } from './arp.js';
export { Arpreq, Sockaddr, Atf, IFNAMSIZ, AF_INET, ARPHRD_ETHER, emitArpreq, parseArpreq, type ArpreqRepr } from './arpreq.js';
export { IoctlError, ArpPermissionError, ArpNoEntryError, ArpNoDeviceError, ArpInvalidError, errnoName, type ArpOperation } from './error.js';
