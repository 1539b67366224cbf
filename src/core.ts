// The browser-clean part of the public API: everything except the Node `net` layer and the
// TUN link. `src/index.ts` re-exports all of this plus the net API (which needs node:stream).
// No module reachable from here imports a `node:` module.

// The stack.
export { Stack } from './stack/stack.js';
export type { StackInit, NetIf, IsnOverride, ConnectOptions as StackConnectOptions, ListenOptions as StackListenOptions } from './stack/stack.js';
export { DEFAULT_STACK_OPTIONS, resolveOptions, type StackOptions } from './stack/options.js';
export { StackError, ERRNO, errnoMessage } from './stack/errors.js';
export { LoopbackLink, LOOPBACK_ADDR, LOOPBACK_MTU, isLoopbackAddr } from './stack/loopback.js';
export { newCounters, DropCounters, type Counters } from './stack/counters.js';
export { connectionTable, renderConnectionTable, formatSsTimer, infoLine } from './stack/table.js';
export type { ConnRow, ConnInfo, ConnTimer, SsTimerName, TableRenderOptions } from './stack/table.js';

// TCP engine types a user meets (connections are Tcb objects; listeners Listener objects).
export type { Tcb, TcbUser, TcbStatus } from './tcp/tcb.js';
export type { Listener } from './tcp/listener.js';
export { TCP_STATES, type TcpState, type TcpErrorCode, type CloseCause } from './tcp/types.js';

// Time.
export { ManualClock, RealtimeClock, type Clock } from './time/clock.js';
export { RealtimeDriver, type RealtimeDriverOptions, type TimerApi } from './time/realtime.js';
export { US, MS, SECOND, MINUTE, HOUR, NEVER, ms, seconds, minutes, hours, formatDuration, parseDuration } from './time/instant.js';
export type { Instant, Duration } from './time/instant.js';

// Links and simulation.
export type { LinkEnd, LinkEvent, LinkEventKind, LinkObserver, Observable, Pollable, Scheduler, PacketHandler } from './link/types.js';
export { FaultyLink, type FaultOptions, type FaultStats } from './link/faulty.js';
export { TapLink, type TapDirection, type TapObserver } from './link/tap.js';
export { createLinkPair, type MemLinkOptions } from './sim/memlink.js';
export { Switch, type SwitchOptions } from './sim/switch.js';
export { Simulation, yieldToEventLoop, type RunOptions } from './sim/simulation.js';
export { twoHosts, type TwoHostOptions, type TwoHosts, type FaultHandle } from './sim/hosts.js';
export { Rng } from './sim/rng.js';

// Ethernet, ARP and the network layer (docs/network.md).
export { EthernetInterface, type EthernetCounters } from './stack/ethernet.js';
export type { EthernetInterfaceOptions, IpDatagram, IpProtocolHandler, IcmpErrorInfo, IcmpErrorHandler, SendIpv4Options } from './stack/network.js';
export { NeighbourCache, DEFAULT_NEIGHBOUR_PARAMS, renderNeighbours, type NeighbourParams, type NeighbourRow, type NudState } from './arp/neighbour.js';
export type { EthernetLinkEnd } from './link/ethernet.js';
export { createEthernetPair, EthernetSwitch, type EthernetSwitchOptions } from './sim/ethernet.js';
export {
  parseEthernet, EthernetView, emitEthernetHeader, buildEthernetFrame, parseMac, formatMac, localMac, BROADCAST_MAC,
  ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_VLAN, type EthernetFrame, type Mac,
} from './wire/ethernet.js';
export { parseArp, emitArp, ARPOP_REQUEST, ARPOP_REPLY, type ArpPacket } from './wire/arp.js';

// Tracing and rendering.
export { TraceRecorder, type RecordedEvent } from './trace/recorder.js';
export type { TraceEvent, TraceSink, SegmentEvent, StateEvent, TimerEvent, UserEvent, DropEvent, ArpEvent, NeighEvent, ConnId, TimerName } from './trace/events.js';
export { probe, type Probe } from './trace/probe.js';
export { subscribeConnection, subscribeType } from './trace/subscribe.js';
export { renderJson, toJsonTrace } from './trace/json.js';
export { formatConnId, parseConnId } from './trace/conn.js';
export { renderAscii, type AsciiOptions } from './viz/ascii.js';
export { renderSvg, type SvgOptions } from './viz/svg.js';
export { renderMermaid, type MermaidOptions } from './viz/mermaid.js';

// Wire formats.
export { PcapWriter, readPcap, LINKTYPE_RAW } from './wire/pcap.js';
export { parseIpv4Address, formatIpv4Address, parseCidr } from './wire/ipv4addr.js';

// The textbook scenarios.
export { SCENARIOS, findScenario } from './scenarios/index.js';
export type { Scenario, ScenarioResult, ScenarioCheck } from './scenarios/index.js';

// UDP (RFC 768) and name resolution hooks.
export { udpOf, UdpLayer, type UdpTraceEvent } from './udp/layer.js';
export { UdpSocket, type UdpMessage, type UdpSocketUser } from './udp/socket.js';
export { parseUdp, emitUdp, buildUdp, UDP_HEADER_LENGTH, UDP_MAX_PAYLOAD, type UdpDatagram } from './wire/udp.js';
export { setNameLookup, nameLookupOf, type NameLookup } from './dns/names.js';
