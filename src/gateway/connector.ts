// Outbound connectors (browser-clean interfaces): the gateway terminates each guest flow in
// synack and hands it to a connector, which opens the real connection — Node's net/dgram
// (src/gateway/node/connector.ts) or a Wisp stream (src/gateway/wisp-connector.ts).

/** Where a guest flow goes, after the host-alias map. */
export interface FlowTarget {
  /** Host to connect to: an IPv4 literal (e.g. 127.0.0.1 for an alias) or a name. */
  host: string;
  port: number;
  /** The address and port the guest used (e.g. 198.18.0.2:8080). */
  virtualAddr: number;
  virtualPort: number;
}

/**
 * One real TCP connection, stream-like. The connector calls the on* handlers; the gateway
 * calls the methods. Backpressure: write() returns false when the connector's buffer is
 * full, then ondrain follows; pause()/resume() stop and restart ondata.
 */
export interface OutboundTcp {
  write(data: Uint8Array): boolean;
  /** Half-close: no more data from the guest (a FIN). */
  end(): void;
  /** Abort (the guest reset the connection). */
  destroy(): void;
  pause(): void;
  resume(): void;
  onconnect: (() => void) | null;
  ondata: ((data: Uint8Array) => void) | null;
  /** The real peer finished sending (its FIN). */
  onend: (() => void) | null;
  ondrain: (() => void) | null;
  /** A Node-style error code: ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ETIMEDOUT, … */
  onerror: ((code: string) => void) | null;
}

/** One real UDP flow (a connected datagram socket). */
export interface OutboundUdp {
  send(data: Uint8Array): void;
  close(): void;
  onmessage: ((data: Uint8Array) => void) | null;
  onerror: ((code: string) => void) | null;
}

export interface Connector {
  connectTcp(target: FlowTarget): OutboundTcp;
  openUdp(target: FlowTarget): OutboundUdp;
}
