// Ethernet links: a LinkEnd whose packets are Ethernet II frames (destination MAC, source
// MAC, EtherType, payload; no preamble, no FCS) rather than bare IP datagrams. Its `mtu` is
// the IP MTU, as on Linux: the largest payload of a frame; the frame itself may be 14 bytes
// longer (18 with one VLAN tag). Fault injectors, taps and pcap capture work on frames the
// same way they work on datagrams.
import type { LinkEnd } from './types.js';

export interface EthernetLinkEnd extends LinkEnd {
  readonly framing: 'ethernet';
}

/** Largest frame an Ethernet link with IP MTU `mtu` carries (header, one VLAN tag). */
export function maxFrameLength(mtu: number): number {
  return mtu + 18;
}

export function isEthernetLink(l: LinkEnd): l is EthernetLinkEnd {
  return (l as Partial<EthernetLinkEnd>).framing === 'ethernet';
}
