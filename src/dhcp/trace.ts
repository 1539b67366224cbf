// DHCP trace events (type 'dhcp', see src/trace/events.ts), emitted only while someone listens.
import type { Stack } from '../stack/stack.js';
import type { DhcpEvent } from '../trace/events.js';

export function traceDhcp(stack: Stack, e: Omit<DhcpEvent, 'type' | 't' | 'host' | 'conn'>): void {
  const tr = stack.tracer;
  if (tr === null) return;
  tr({ type: 'dhcp', t: stack.now(), host: stack.traceHost, conn: null, ...e });
}
