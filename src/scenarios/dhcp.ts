// DHCP: a host with no address gets one (DISCOVER, OFFER, REQUEST, ACK), uses it for a TCP
// connection, and renews the lease at T1 with a unicast REQUEST (RFC 2131 §3.1, §4.4.5).
import type { Scenario } from './types.js';
import { Simulation } from '../sim/simulation.js';
import { createEthernetPair } from '../sim/ethernet.js';
import { Stack } from '../stack/stack.js';
import { localMac } from '../wire/ethernet.js';
import { TraceRecorder } from '../trace/recorder.js';
import { DhcpServer } from '../dhcp/server.js';
import { DhcpClient } from '../dhcp/stack-client.js';
import { formatIpv4Address as fmt } from '../wire/ipv4addr.js';
import { parseEthernet } from '../wire/ethernet.js';
import { parseIpv4, IPPROTO_UDP } from '../wire/ipv4.js';
import { parseUdp } from '../wire/udp.js';
import { parseDhcp, messageType, dhcpTypeName } from '../dhcp/wire.js';
import { Checks, DELAY, SEC, fmtTime } from './common.js';

const SERVER = '198.18.0.2';
const LEASE = 600;

export const dhcp: Scenario = {
  name: 'dhcp',
  title: { en: 'DHCP: getting an address (DORA), then renewing the lease', zh: 'DHCP：获取地址（DORA），然后续租' },
  explain: {
    en:
      'A host that has just joined a network knows its hardware address and nothing else: no IP address, no router, ' +
      'no name server. It broadcasts a DHCPDISCOVER from 0.0.0.0 to 255.255.255.255 (port 67), since it cannot address ' +
      'anyone yet; the server answers with a DHCPOFFER of a free address from its pool, also broadcast because the client ' +
      'cannot receive unicast before it is configured. The client asks for exactly that offer with a broadcast ' +
      'DHCPREQUEST naming the server (so any other server that made an offer knows it was declined), and the server ' +
      'commits the binding with a DHCPACK carrying the lease time, the subnet mask, the router and the DNS servers. ' +
      'Discover, Offer, Request, Ack: DORA. Every exchange has a transaction id (xid) so a client matches replies to ' +
      'its own request, and lost messages are retransmitted after 4, 8, 16… seconds.\n' +
      'The address is only lent. At T1 (half the lease) the client, now a normal host, asks the same server by unicast ' +
      'to extend it (RENEWING); if the server does not answer until T2 (7/8 of the lease) it broadcasts the request to ' +
      'any server (REBINDING); when the lease runs out it must stop using the address and start over. Here the server ' +
      'answers at T1, and the client keeps its address without any interruption of its TCP connection.',
    zh:
      '刚接入网络的主机只知道自己的硬件地址：没有 IP 地址，没有路由器，也没有域名服务器。' +
      '它从 0.0.0.0 向 255.255.255.255（端口 67）广播 DHCPDISCOVER，因为它还无法给任何人发单播；' +
      '服务器从地址池中选一个空闲地址，用 DHCPOFFER 回答，同样是广播，因为客户端在配置好之前收不到单播。' +
      '客户端用一个指明该服务器的广播 DHCPREQUEST 请求这一个地址（这样其他也发了 OFFER 的服务器就知道自己没被选中），' +
      '服务器用 DHCPACK 确认绑定，并带上租期、子网掩码、路由器和 DNS 服务器。发现、提供、请求、确认：DORA。' +
      '每次交互都有一个事务号（xid），客户端据此把回答和自己的请求对应起来；丢失的报文在 4、8、16……秒后重传。\n' +
      '地址只是借用的。到 T1（租期的一半）时，已经是普通主机的客户端用单播向同一台服务器请求续租（RENEWING）；' +
      '如果直到 T2（租期的 7/8）服务器都没有回答，它就向所有服务器广播请求（REBINDING）；租期耗尽时它必须停止使用该地址并重新开始。' +
      '这里服务器在 T1 就回答了，客户端保住了地址，它的 TCP 连接也没有任何中断。',
  },
  run({ seed }) {
    const sim = new Simulation({ seed });
    const [l1, l2] = createEthernetPair(sim, { delay: DELAY });
    const rs = sim.rng.fork('server'), rc = sim.rng.fork('client'), rd = sim.rng.fork('dhcp');
    const server = new Stack({ clock: sim.clock, random: (n) => rs.bytes(n) });
    const client = new Stack({ clock: sim.clock, random: (n) => rc.bytes(n) });
    server.addEthernetInterface({ link: l1, mac: localMac(2), addr: SERVER, prefixLen: 24 });
    const cif = client.addEthernetInterface({ link: l2, mac: localMac(1) });
    sim.add(server); sim.add(client);
    const rec = new TraceRecorder().attach(client).attach(server);
    rec.capturePackets(l1).capturePackets(l2);
    rec.linktype = 1; // Ethernet frames
    new DhcpServer(server, { pool: { first: '198.18.0.100', last: '198.18.0.199' }, dns: [SERVER], domain: 'synack.test', leaseTime: LEASE });
    const dc = new DhcpClient(client, { nif: cif, hostname: 'newcomer', random: () => rd.float() });
    const listener = server.listen({ port: 80 });
    dc.start();
    sim.runUntil(() => dc.state === 'BOUND', { maxTime: 60 * SEC });
    const ck = new Checks();
    const lease = dc.lease;
    // Use the address: a TCP connection to the server.
    const tcb = lease === null ? null : client.connect({ remoteAddr: SERVER, remotePort: 80 });
    tcb?.openActive(sim.now());
    sim.runFor(1 * SEC);
    const first = lease === null ? null : { ...lease };
    sim.runUntil(() => dc.lease !== null && first !== null && dc.lease.obtained > first.obtained, { maxTime: (LEASE + 10) * SEC });
    sim.runFor(1 * SEC);

    // What went over the wire: DHCP messages with their IP source and destination.
    const wire: string[] = [];
    for (const p of rec.packets) {
      const e = parseEthernet(p.packet);
      if (!e.ok || e.value.etherType !== 0x0800) continue;
      const ip = parseIpv4(e.value.payload);
      if (!ip.ok || ip.value.protocol !== IPPROTO_UDP) continue;
      const u = parseUdp(ip.value.payload);
      if (!u.ok || (u.value.dstPort !== 67 && u.value.dstPort !== 68)) continue;
      const d = parseDhcp(u.value.payload);
      if (!d.ok) continue;
      wire.push(`${dhcpTypeName(messageType(d.value))} ${fmt(ip.value.src)}>${fmt(ip.value.dst)}`);
    }
    const states = rec.events.filter((e) => e.type === 'dhcp' && e.kind === 'state' && e.from !== e.to).map((e) => (e as { to: string }).to);
    ck.eq('DORA on the wire: DISCOVER and REQUEST broadcast from 0.0.0.0, OFFER and ACK broadcast by the server',
      '线路上的 DORA：DISCOVER 和 REQUEST 从 0.0.0.0 广播，OFFER 和 ACK 由服务器广播', wire.slice(0, 4),
      ['DISCOVER 0.0.0.0>255.255.255.255', 'OFFER 198.18.0.2>255.255.255.255', 'REQUEST 0.0.0.0>255.255.255.255', 'ACK 198.18.0.2>255.255.255.255']);
    ck.eq('client: INIT → SELECTING → REQUESTING → BOUND', '客户端：INIT → SELECTING → REQUESTING → BOUND', states.slice(0, 3), ['SELECTING', 'REQUESTING', 'BOUND']);
    ck.ok('the lease: 198.18.0.100/24, router and DNS 198.18.0.2, 600 s', '租约：198.18.0.100/24，路由器和 DNS 为 198.18.0.2，600 秒',
      first !== null && fmt(first.addr) === '198.18.0.100' && first.prefixLen === 24 && first.routers.map(fmt).join() === SERVER
        && first.dns.map(fmt).join() === SERVER && first.leaseTime === LEASE,
      first === null ? 'no lease' : `${fmt(first.addr)}/${first.prefixLen} router ${first.routers.map(fmt).join(',')} dns ${first.dns.map(fmt).join(',')} ${first.leaseTime}s`);
    ck.ok('the interface is configured and a TCP connection from it is ESTABLISHED', '接口已配置，从它发起的 TCP 连接进入 ESTABLISHED',
      fmt(cif.addr) === '198.18.0.100' && tcb !== null && tcb.state === 'ESTABLISHED' && listener.acceptQueue.length === 1,
      `interface ${fmt(cif.addr)}, connection ${tcb?.state ?? 'none'}`);
    const renewedAt = dc.lease?.obtained ?? 0;
    ck.ok('renewal at T1 = 300 s after the first REQUEST', '在第一次 REQUEST 之后 300 秒（T1）续租', first !== null && renewedAt - first.obtained === 300 * SEC,
      first === null ? '' : `T1 after ${fmtTime(renewedAt - first.obtained)}`);
    ck.eq('the renewal is a unicast REQUEST from the leased address, acknowledged by unicast', '续租是从租用地址发出的单播 REQUEST，以单播确认',
      wire.slice(4), ['REQUEST 198.18.0.100>198.18.0.2', 'ACK 198.18.0.2>198.18.0.100']);
    ck.eq('client: BOUND → RENEWING → BOUND', '客户端：BOUND → RENEWING → BOUND', states.slice(2), ['BOUND', 'RENEWING', 'BOUND']);
    ck.ok('the lease now ends 600 s after the renewal; the connection never noticed', '租约现在在续租后 600 秒到期；连接毫无察觉',
      dc.lease !== null && dc.lease.expires === renewedAt + LEASE * SEC && tcb?.state === 'ESTABLISHED',
      dc.lease === null ? 'no lease' : `expires at ${fmtTime(dc.lease.expires)}`);
    return {
      recorder: rec, checks: ck.list, hosts: { '198.18.0.100': 'client', [SERVER]: 'server' }, stacks: { client, server },
    };
  },
};
