// Records the trace of a run: events from any number of stacks, in time order, plus link
// drops, which mark the matching outgoing segment `lost` (drawn as an arrow ending in ×).
import type { Stack } from '../stack/stack.js';
import type { Observable, LinkEvent } from '../link/types.js';
import type { TraceEvent, SegmentEvent } from './events.js';
import { parseIpv4, IPPROTO_TCP } from '../wire/ipv4.js';
import { TcpView } from '../wire/tcp.js';

export type RecordedEvent = TraceEvent & { lost?: boolean };

export class TraceRecorder {
  readonly events: RecordedEvent[] = [];
  private readonly unsubs: Array<() => void> = [];
  private readonly view = new TcpView();

  /** Record every trace event of `stack`. */
  attach(stack: Stack): this {
    this.unsubs.push(stack.addTraceListener((ev) => { this.events.push({ ...ev } as RecordedEvent); }));
    return this;
  }

  /** Watch a link (or fault injector): packets it drops mark the matching segment `lost`. */
  watchLink(link: Observable): this {
    this.unsubs.push(link.observe((ev) => this.onLinkEvent(ev)));
    return this;
  }

  private onLinkEvent(ev: LinkEvent): void {
    if (ev.kind !== 'drop') return;
    const r = parseIpv4(ev.packet, { verifyChecksum: false });
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

  detach(): void {
    for (const u of this.unsubs.splice(0)) u();
  }
}
