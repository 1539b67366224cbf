// The DHCP client on a stack interface: the state machine of client.ts with the stack as
// its transport — UDP port 68 (broadcasts reach it while the interface is unconfigured,
// docs/network.md), interface configuration, the default route and, optionally, a DNS stub
// resolver for the servers the lease names. Traced as 'dhcp' events. Browser-clean.
import type { Instant } from '../time/instant.js';
import type { Stack, NetIf } from '../stack/stack.js';
import type { Pollable } from '../link/types.js';
import { udpOf } from '../udp/layer.js';
import type { UdpSocket } from '../udp/socket.js';
import { DhcpClientMachine, type DhcpLease, type DhcpClientState } from './client.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from './wire.js';
import { traceDhcp } from './trace.js';
import { DnsResolver } from '../dns/resolver.js';
import { setNameLookup } from '../dns/names.js';

export interface DhcpClientOptions {
  /** The interface to configure (default: the first Ethernet interface, else the first). */
  nif?: NetIf;
  /** The client's hardware address (default: the interface's MAC). */
  mac?: Uint8Array;
  hostname?: string;
  previousAddr?: number;
  /** Wait the random 1–10 s of RFC 2131 §4.4.1 before the first DISCOVER (default true). */
  startDelay?: boolean;
  /** Install a DNS resolver for the lease's DNS servers (default true). */
  resolver?: boolean;
  /** Uniform [0,1) randomness (default: the simulation-safe stack random source is not exposed; crypto). */
  random?: () => number;
}

export class DhcpClient implements Pollable {
  readonly machine: DhcpClientMachine;
  readonly nif: NetIf;
  readonly socket: UdpSocket;
  resolver: DnsResolver | null = null;
  onState: ((from: DhcpClientState, to: DhcpClientState, why: string) => void) | null = null;
  onLease: ((lease: DhcpLease | null) => void) | null = null;
  private readonly unregister: () => void;
  private pending = false;

  constructor(readonly stack: Stack, o: DhcpClientOptions = {}) {
    const nif = o.nif ?? stack.interfaces.find((i) => i.kind === 'ethernet') ?? stack.interfaces[0];
    if (nif === undefined) throw new RangeError('DHCP client: the stack has no interface');
    this.nif = nif;
    const mac = o.mac ?? nif.mac;
    if (mac === undefined) throw new RangeError('DHCP client: no MAC address (give mac, or use an Ethernet interface)');
    const random = o.random ?? (() => { const b = new Uint32Array(1); globalThis.crypto.getRandomValues(b); return b[0]! / 4294967296; });
    const s = udpOf(stack).createSocket();
    s.reuseAddr = true;
    s.broadcast = true;
    s.handle = this;
    s.bind(0, DHCP_CLIENT_PORT);
    s.user = { onReadable: () => { this.pending = true; stack.onWake?.(); }, onError: () => {} };
    this.socket = s;
    const useResolver = o.resolver !== false;
    this.machine = new DhcpClientMachine({ mac, random, hostname: o.hostname, previousAddr: o.previousAddr, startDelay: o.startDelay }, {
      send: (msg, dst, src) => {
        try { udpOf(stack).sendRaw(src, DHCP_CLIENT_PORT, dst, DHCP_SERVER_PORT, msg, dst === 0xffffffff ? nif : undefined); }
        catch (e) { stack.drop(`dhcp: not sent (${(e as { code?: string }).code ?? String(e)})`, stack.now()); }
      },
      configure: (lease) => {
        if (lease === null) {
          stack.configureInterface(nif, { addr: 0, prefixLen: 0 });
          stack.setDefaultRoute(null);
          if (this.resolver !== null) { this.resolver.close(); this.resolver = null; setNameLookup(stack, null); }
        } else {
          if (nif.addr !== lease.addr || nif.prefixLen !== lease.prefixLen) stack.configureInterface(nif, { addr: lease.addr, prefixLen: lease.prefixLen });
          if (lease.routers.length > 0) stack.setDefaultRoute(lease.routers[0]!, nif);
          if (useResolver && lease.dns.length > 0 && (this.resolver === null || this.resolver.servers.join() !== lease.dns.join())) {
            this.resolver?.close();
            this.resolver = new DnsResolver(stack, { servers: lease.dns, random: (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)) });
          }
        }
        this.onLease?.(lease);
      },
      state: (from, to, why) => {
        traceDhcp(stack, { role: 'client', kind: 'state', from, to, detail: why });
        this.onState?.(from, to, why);
      },
      message: (dir, type, xid, detail) => traceDhcp(stack, { role: 'client', kind: 'message', dir, msg: type, xid, detail }),
    });
    this.unregister = stack.addPollable(this);
  }

  get state(): DhcpClientState { return this.machine.state; }
  get lease(): DhcpLease | null { return this.machine.lease; }

  start(): this { this.machine.start(this.stack.now()); this.stack.onWake?.(); return this; }

  /** DHCPRELEASE and stop; the interface is unconfigured. */
  release(): void { this.machine.release(this.stack.now()); }

  close(): void { this.release(); this.socket.close(); this.unregister(); }

  nextDeadline(): Instant { return this.pending ? 0 : this.machine.nextDeadline(); }

  poll(now: Instant): void {
    if (this.pending) {
      this.pending = false;
      for (let m = this.socket.recv(); m !== null; m = this.socket.recv()) this.machine.receive(m.data, now);
    }
    this.machine.poll(now);
  }
}
