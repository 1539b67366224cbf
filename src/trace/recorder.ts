// Records the trace of a run: events from any number of stacks, in time order, plus link
// drops, which mark the matching outgoing segment `lost` (drawn as an arrow ending in ×),
// and optionally the raw packets links carry, for a pcap file.
import type { Stack } from '../stack/stack.js';
import type { Observable, LinkEvent } from '../link/types.js';
import type { TraceEvent, SegmentEvent } from './events.js';
import { parseIpv4, IPPROTO_TCP } from '../wire/ipv4.js';
import { TcpView } from '../wire/tcp.js';
import { PcapWriter, LINKTYPE_RAW } from '../wire/pcap.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, formatMac } from '../wire/ethernet.js';
import { parseArp } from '../wire/arp.js';
import { toJsonTrace, type JsonTraceEvent } from './json.js';

export type RecordedEvent = TraceEvent & { lost?: boolean };

export class TraceRecorder {
  readonly events: RecordedEvent[] = [];
  private readonly unsubs: Array<() => void> = [];
  private readonly view = new TcpView();
  /** Packets captured by capturePackets(), in capture order. */
  readonly packets: Array<{ t: number; packet: Uint8Array }> = [];
  /** LINKTYPE of the captured packets: RAW (IPv4) unless capturePackets was told otherwise (ETHERNET = 1). */
  linktype = LINKTYPE_RAW;

  /** Record every trace event of `stack`. */
  attach(stack: Stack): this {
    this.unsubs.push(stack.addTraceListener((ev) => { this.events.push({ ...ev } as RecordedEvent); }));
    return this;
  }

  /** Watch a link (or fault injector): packets it drops mark the matching segment `lost`. */
  watchLink(link: Observable, framing: 'ip' | 'ethernet' = 'ip'): this {
    this.unsubs.push(link.observe((ev) => this.onLinkEvent(ev, framing === 'ethernet')));
    return this;
  }

  /**
   * Capture every packet handed to `link` ('send' events) for pcap(). Observe each sending
   * end once: on a link pair both ends, behind fault injectors the injectors (so packets
   * the faults then drop are in the capture too, as a sender-side tcpdump would show them).
   */
  capturePackets(link: Observable, linktype?: number): this {
    if (linktype !== undefined) this.linktype = linktype;
    this.unsubs.push(link.observe((ev) => {
      if (ev.kind === 'send') this.packets.push({ t: ev.t, packet: ev.packet.slice() });
    }));
    return this;
  }

  /** The captured packets as a classic pcap file (LINKTYPE_RAW, virtual µs timestamps), time-ordered. */
  pcap(): Uint8Array {
    const w = new PcapWriter({ linktype: this.linktype });
    const order = this.packets.map((p, i) => i).sort((x, y) => this.packets[x]!.t - this.packets[y]!.t || x - y);
    for (const i of order) w.writePacket(this.packets[i]!.t, this.packets[i]!.packet);
    return w.bytes();
  }

  /** The recorded events in the JSON trace contract (see json.ts). */
  json(): JsonTraceEvent[] {
    return toJsonTrace(this.events);
  }

  private onLinkEvent(ev: LinkEvent, ethernet: boolean): void {
    if (ev.kind !== 'drop') return;
    let pkt = ev.packet;
    // An Ethernet frame (untagged): ARP, or IPv4 inside.
    if (ethernet) {
      if (pkt.length < 14) return;
      const type = (pkt[12]! << 8) | pkt[13]!;
      if (type === ETHERTYPE_ARP) { this.arpLost(pkt.subarray(14)); return; }
      if (type !== ETHERTYPE_IPV4) return;
      pkt = pkt.subarray(14);
    }
    const r = parseIpv4(pkt, { verifyChecksum: false });
    if (!r.ok || r.value.protocol !== IPPROTO_TCP || r.value.isFragment) return;
    const ip = r.value;
    if (this.view.reset(ip.payload) !== null) return;
    const v = this.view;
    // The most recent matching 'out' segment from that host.
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type !== 'segment' || e.dir !== 'out' || e.host !== ip.src) continue;
      const s = e as SegmentEvent & { lost?: boolean };
      if (s.conn.localPort === v.srcPort && s.conn.remotePort === v.dstPort && s.seq === v.seq && s.ack === v.ack && s.flags === v.flags && !s.lost) {
        s.lost = true;
        return;
      }
    }
  }

  private arpLost(p: Uint8Array): void {
    const r = parseArp(p);
    if (!r.ok) return;
    const a = r.value;
    const op = a.op === 1 ? 'request' : 'reply';
    const sha = formatMac(a.sha);
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type === 'arp' && e.dir === 'out' && !e.lost && e.op === op && e.spa === a.spa && e.tpa === a.tpa && e.sha === sha) {
        e.lost = true;
        return;
      }
    }
  }

  detach(): void {
    for (const u of this.unsubs.splice(0)) u();
  }
}
