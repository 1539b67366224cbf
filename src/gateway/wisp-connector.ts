// WispConnector (browser-clean): the gateway's real connections as streams of one Wisp
// connection (src/wisp/client.ts), so a gateway in a browser page reaches the network through
// a Wisp server (`synack relay`, @mercuryworkshop/wisp-js, …).
//
// Protocol limits, carried as faithfully as Wisp allows:
//  - Wisp has no connect acknowledgement. By default a stream counts as connected at once (the
//    guest's handshake completes) and a refusal arrives later as CLOSE → RST to the guest
//    (ECONNRESET where a direct connection would say ECONNREFUSED). `synack relay` sends a
//    CONTINUE as soon as its connection is up; with `awaitContinue: true` the connector waits
//    for it, and a refusal becomes a RST to the guest's SYN, exactly as with NodeConnector.
//    (Use it only with servers that do this: a wisp-js server sends no CONTINUE until 64
//    packets arrived, so client-first protocols would never start.)
//  - Wisp has no half-close: the guest's FIN is not sent on (the stream stays open until the
//    server side closes); the server side's CLOSE (Voluntary) becomes our FIN to the guest.
import type { Connector, FlowTarget, OutboundTcp, OutboundUdp } from './connector.js';
import { WispCloseReason } from '../wisp/packet.js';
import type { WispClient } from '../wisp/client.js';

export interface WispConnectorOptions {
  /** Count a TCP stream as connected only once the server sent CONTINUE or DATA on it. */
  awaitContinue?: boolean;
}

/** A Wisp close reason as the Node error code a direct connection would have reported. */
export function wispReasonToCode(reason: number): string {
  switch (reason) {
    case WispCloseReason.ConnRefused: return 'ECONNREFUSED';
    case WispCloseReason.HostBlocked: return 'ECONNREFUSED';
    case WispCloseReason.UnreachableHost: return 'EHOSTUNREACH';
    case WispCloseReason.NoResponse: case WispCloseReason.TransferTimeout: return 'ETIMEDOUT';
    default: return 'ECONNRESET';
  }
}

export class WispConnector implements Connector {
  constructor(readonly client: WispClient, private readonly opts: WispConnectorOptions = {}) {}

  connectTcp(t: FlowTarget): OutboundTcp {
    const o: OutboundTcp = {
      onconnect: null, ondata: null, onend: null, ondrain: null, onerror: null,
      write: () => false, end: () => {}, destroy: () => {}, pause: () => {}, resume: () => {},
    };
    let s: ReturnType<WispClient['open']>;
    try { s = this.client.open(t.host, t.port, 'tcp'); } catch (e) {
      queueMicrotask(() => o.onerror?.((e as { code?: string }).code ?? 'ENETDOWN'));
      return o;
    }
    let connected = false;
    const connect = (): void => { if (!connected) { connected = true; o.onconnect?.(); } };
    o.write = (d) => s.write(d);
    o.destroy = () => s.close(WispCloseReason.Voluntary);
    o.pause = () => s.pause();
    o.resume = () => s.resume();
    s.ondrain = () => o.ondrain?.();
    s.ondata = (d) => { connect(); o.ondata?.(d); };
    s.onclose = (reason) => {
      if (reason === WispCloseReason.Voluntary && connected) o.onend?.();
      else o.onerror?.(wispReasonToCode(reason));
    };
    if (this.opts.awaitContinue) {
      const orig = s.continued.bind(s);
      s.continued = (n: number) => { orig(n); connect(); };
    } else {
      queueMicrotask(connect);
    }
    return o;
  }

  openUdp(t: FlowTarget): OutboundUdp {
    const o: OutboundUdp = { onmessage: null, onerror: null, send: () => {}, close: () => {} };
    let s: ReturnType<WispClient['open']>;
    try { s = this.client.open(t.host, t.port, 'udp'); } catch (e) {
      queueMicrotask(() => o.onerror?.((e as { code?: string }).code ?? 'ENETDOWN'));
      return o;
    }
    o.send = (d) => { s.write(d); };
    o.close = () => s.close(WispCloseReason.Voluntary);
    s.ondata = (d) => o.onmessage?.(d);
    s.onclose = (reason) => { if (reason !== WispCloseReason.Voluntary) o.onerror?.(wispReasonToCode(reason)); };
    return o;
  }
}
