// The words of the diagrams in Chinese: timer expiries, drops, "(retransmit)", folds, the
// legend and footnotes. The renderers speak English; `translate: zhDiagram` (SVG, ASCII)
// turns every annotation into the terms of the Chinese textbooks. State names stay RFC
// names (the textbooks print them so too); the glossary maps them to the Chinese names.
import type { TcpState } from '../tcp/types.js';

const ZH: Record<string, string> = {
  'RTO timeout': '超时重传定时器到期',
  'SYN timeout': 'SYN 重传定时器到期',
  'SYN-ACK timeout': 'SYN-ACK 重传定时器到期',
  'persist timeout': '坚持定时器到期',
  'delayed-ACK timeout': '延迟确认定时器到期',
  'keepalive timeout': '保活定时器到期',
  '2MSL timeout': '2MSL 定时器到期',
  'FIN-WAIT-2 timeout': 'FIN-WAIT-2 定时器到期',
  'user timeout': '用户超时',
  '(retransmit)': '（重传）',
  '(old duplicate)': '（旧的重复报文段）',
  'old duplicate, put on the wire by the scenario': '旧的重复报文段（由场景注入）',
  '{t} later': '{t} 之后',
  'time': '时间',
  'seq/ack relative to each side\'s ISN': 'seq/ack 为相对各自 ISN 的相对序号',
  'seq/ack: absolute numbers': 'seq/ack 为绝对序号',
  'seq/ack absolute': 'seq/ack 为绝对序号',
  'win in bytes (scaled)': 'win 以字节计（已按窗口扩大因子换算）',
  'lost on the link': '在链路上丢失',
  'retransmission': '重传',
  'in flight': '在途',
  'two-way: connection open, greeting sent': '两次握手：认为连接已建立，发出欢迎信息',
  'old copy of the answer to /a, delayed 1.1 s': '/a 回答的旧副本，延迟了 1.1 秒',
};

/** Annotations with numbers in them (scenario notes). */
const ZH_PATTERNS: Array<[RegExp, string]> = [
  [/^flood: (\d+) spoofed SYNs, SYN queue full \((\d+)\/(\d+)\), \+10\/s$/, '洪泛：$1 个伪造 SYN，半连接队列满（$2/$3），每秒再来 10 个'],
  [/^without cookies: (\d+) SYNs dropped, ETIMEDOUT at (\d+) s$/, '不用 cookie：$1 个 SYN 全被丢弃，$2 秒时 ETIMEDOUT'],
  [/^ISN = SYN cookie \(no state kept\)$/, 'ISN = SYN cookie（不保存状态）'],
  [/^flood over: (\d+) spoofed SYNs, (\d+) got cookies$/, '洪泛结束：共 $1 个伪造 SYN，$2 个得到 cookie'],
  [/^flood over: (\d+) spoofed SYNs, (\d+) dropped$/, '洪泛结束：共 $1 个伪造 SYN，丢弃 $2 个'],
];

/** Chinese for a diagram annotation; "drop: reason" keeps its reason; unknown text is returned as is. */
export function zhDiagram(english: string): string {
  const hit = ZH[english];
  if (hit !== undefined) return hit;
  for (const [re, zh] of ZH_PATTERNS) if (re.test(english)) return english.replace(re, zh);
  if (english.startsWith('drop: ')) return `丢弃：${english.slice(6)}`;
  const lost = /^(\u00d7) lost on the link$/.exec(english);
  if (lost !== null) return `${lost[1]} 在链路上丢失`;
  return english;
}

/** The translator for a language (identity for English). */
export function diagramTranslator(lang: 'en' | 'zh'): (s: string) => string {
  return lang === 'zh' ? zhDiagram : (s) => s;
}

export interface GlossaryRow {
  /** RFC 9293 name. */
  rfc: TcpState;
  /** What ss (iproute2) prints, then netstat. */
  ss: string;
  netstat: string;
  /** The Chinese textbooks' name. */
  zh: string;
  en: string;
}

/** RFC names ↔ ss/netstat names ↔ Chinese textbook names, in the order of a connection's life. */
export const STATE_GLOSSARY: readonly GlossaryRow[] = [
  { rfc: 'CLOSED', ss: 'UNCONN / CLOSE', netstat: 'CLOSED', zh: '关闭', en: 'no connection' },
  { rfc: 'LISTEN', ss: 'LISTEN', netstat: 'LISTEN', zh: '监听', en: 'waiting for a SYN' },
  { rfc: 'SYN-SENT', ss: 'SYN-SENT', netstat: 'SYN_SENT', zh: '同步已发送', en: 'SYN sent, waiting for SYN-ACK' },
  { rfc: 'SYN-RECEIVED', ss: 'SYN-RECV', netstat: 'SYN_RECV', zh: '同步已接收（同步收到）', en: 'SYN received, SYN-ACK sent (in the SYN queue: 半连接队列)' },
  { rfc: 'ESTABLISHED', ss: 'ESTAB', netstat: 'ESTABLISHED', zh: '已建立连接', en: 'open, data flows' },
  { rfc: 'FIN-WAIT-1', ss: 'FIN-WAIT-1', netstat: 'FIN_WAIT1', zh: '终止等待 1', en: 'FIN sent, not yet acknowledged' },
  { rfc: 'FIN-WAIT-2', ss: 'FIN-WAIT-2', netstat: 'FIN_WAIT2', zh: '终止等待 2', en: 'FIN acknowledged, waiting for the peer\'s FIN' },
  { rfc: 'CLOSE-WAIT', ss: 'CLOSE-WAIT', netstat: 'CLOSE_WAIT', zh: '关闭等待', en: 'peer finished sending; the application has not closed' },
  { rfc: 'CLOSING', ss: 'CLOSING', netstat: 'CLOSING', zh: '同时关闭（正在关闭）', en: 'both FINs crossed, waiting for the ACK of ours' },
  { rfc: 'LAST-ACK', ss: 'LAST-ACK', netstat: 'LAST_ACK', zh: '最后确认', en: 'our FIN sent after the peer\'s, waiting for its ACK' },
  { rfc: 'TIME-WAIT', ss: 'TIME-WAIT', netstat: 'TIME_WAIT', zh: '时间等待', en: 'closed first; waits 2·MSL' },
];

/** Terms beside the states: what the textbooks call them in Chinese. */
export const TERM_GLOSSARY: ReadonlyArray<{ term: string; en: string; zh: string }> = [
  { term: 'SYN', en: 'synchronize: opens, carries the ISN', zh: '同步（SYN=1）' },
  { term: 'ACK', en: 'acknowledgment field is valid', zh: '确认（ACK=1）' },
  { term: 'FIN', en: 'finish: no more data from me', zh: '终止（FIN=1）' },
  { term: 'RST', en: 'reset: abort the connection', zh: '复位（RST=1）' },
  { term: 'ISN (x, y)', en: 'initial sequence number', zh: '初始序号' },
  { term: 'seq / ack', en: 'sequence / acknowledgment number', zh: '序号 / 确认号' },
  { term: 'MSL', en: 'maximum segment lifetime (Linux 30 s, RFC 793: 2 min)', zh: '最长报文段寿命' },
  { term: 'RTO', en: 'retransmission timeout', zh: '超时重传时间' },
  { term: 'SRTT', en: 'smoothed round-trip time', zh: '平滑往返时间' },
  { term: 'cwnd', en: 'congestion window', zh: '拥塞窗口' },
  { term: 'ssthresh', en: 'slow-start threshold', zh: '慢开始门限' },
  { term: 'rwnd (SND.WND)', en: 'the peer\'s receive window', zh: '接收窗口（对方通告的窗口）' },
  { term: 'SYN queue', en: 'half-open connections (SYN-RECEIVED)', zh: '半连接队列' },
  { term: 'accept queue', en: 'established, not yet accept()ed', zh: '全连接队列' },
  { term: 'keepalive', en: 'probes an idle connection', zh: '保活' },
  { term: 'SYN cookie', en: 'state encoded in the server\'s ISN', zh: 'SYN cookie（无状态握手）' },
];
