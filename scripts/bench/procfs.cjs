'use strict';
// CPU time and memory of processes from /proc, and how to find the PostgreSQL
// postmaster and the message broker the bench is talking to.
const { readFileSync, readdirSync, readlinkSync, existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { isBrokerProcess } = require('./brokers.cjs');

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // USER_HZ is 100 on every Linux the project runs on
}
const MS_PER_TICK = 1000 / ticksPerSecond;

/**
 * utime, stime, cutime, cstime and ppid of one process, in ms; undefined when it
 * is gone. The command name may hold spaces and parentheses: fields are counted
 * from the last ')'.
 */
function processTimes(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i) => Number(fields[i]) * MS_PER_TICK;
  return { ppid: Number(fields[1]), utime: n(11), stime: n(12), cutime: n(13), cstime: n(14) };
}

/**
 * CPU ms a process and every descendant it has reaped have used: its own
 * utime+stime plus cutime+cstime (children that exited and were waited for).
 */
function ownAndReapedMs(pid) {
  const t = processTimes(pid);
  return t ? t.utime + t.stime + t.cutime + t.cstime : undefined;
}

/** Every live process's ppid and times, read once per snapshot. */
function allProcesses() {
  const list = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const t = processTimes(entry);
    if (t) list.push({ pid: Number(entry), ...t });
  }
  return list;
}

/**
 * CPU ms of a process tree: the root's own time and reaped children
 * (cutime/cstime, so backends that exited between two snapshots still count),
 * plus the live children's time. For the postmaster this is all of PostgreSQL.
 */
function treeMs(rootPid, processes = allProcesses()) {
  const root = ownAndReapedMs(rootPid);
  if (root === undefined) return undefined;
  let total = root;
  for (const p of processes) if (p.ppid === rootPid) total += p.utime + p.stime + p.cutime + p.cstime;
  return total;
}

/** Busy CPU ms of the whole machine (all cores) from /proc/stat: a noise indicator. */
function machineBusyMs() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) * MS_PER_TICK;
}

function rssMb(pid) {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The postmaster is the parent of the backend serving our connection (same machine only). */
function postmasterOf(backendPid) {
  const t = processTimes(backendPid);
  if (!t) return undefined;
  return /postgres|postmaster/.test(cmdline(t.ppid)) ? t.ppid : undefined;
}

/** Socket inodes listening on a TCP port, from /proc/net/tcp{,6}. */
function listeningInodes(port) {
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1].split(':').pop(), 16);
      if (localPort === port && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  return inodes;
}

function holdsSocket(pid, inodes) {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1])) return true;
    }
  } catch {
    // not ours to read, or gone
  }
  return false;
}

// Where testkit's infra scripts write the pid of a broker they started (under ORDERFLOW_CACHE).
const PID_FILES = { kafka: 'kafka/run/kafka.pid', sqs: 'elasticmq/run/elasticmq.pid' };

/**
 * The broker process serving `port` on this machine (see isBrokerProcess for what
 * counts as one). Several may run (the chaos suite starts its own Kafka), so the
 * one whose process holds the listening socket of our port wins; then the pid
 * file of the broker the project started; then the only candidate, if there is
 * exactly one (a broker of another user whose sockets we may not read).
 */
function findBrokerPid(broker, port, repoRoot) {
  const candidates = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isBrokerProcess(broker, cmdline(pid)));
  const inodes = listeningInodes(port);
  const listening = candidates.find((pid) => holdsSocket(pid, inodes));
  if (listening) return listening;
  const pidFile = PID_FILES[broker] && join(process.env.ORDERFLOW_CACHE || join(repoRoot, '.cache'), PID_FILES[broker]);
  if (pidFile && existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (candidates.includes(pid)) return pid;
  }
  return candidates.length === 1 ? candidates[0] : undefined;
}

module.exports = {
  processTimes,
  ownAndReapedMs,
  allProcesses,
  treeMs,
  machineBusyMs,
  rssMb,
  postmasterOf,
  findBrokerPid,
  MS_PER_TICK,
};
