'use strict';
// A forked helper process (load generator, floor producer or consumer) with
// request/reply messaging: each request carries an id that its reply echoes.
const { fork } = require('node:child_process');

class Child {
  constructor(script, args = [], { onProgress = () => undefined, name = script, execArgv = process.execArgv } = {}) {
    this.name = name;
    this.pending = new Map();
    this.nextId = 1;
    this.process = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', execArgv });
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      this.process.once('exit', (code, signal) => {
        const error = new Error(`${this.name} exited (code ${code}, signal ${signal})`);
        reject(error);
        for (const { reject: r } of this.pending.values()) r(error);
        this.pending.clear();
      });
      this.process.on('message', (message) => {
        if (message.type === 'ready') return resolve();
        if (message.type === 'progress') return onProgress(message);
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.type === 'error') waiter.reject(new Error(`${this.name}: ${message.message}`));
        else waiter.resolve(message);
      });
    });
    this.ready.catch(() => undefined);
  }

  get pid() {
    return this.process.pid;
  }

  request(cmd, payload = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.process.send({ ...payload, cmd, id });
    });
  }

  /** Asks the process to leave (closing its connections), then kills it if it lingers. */
  async stop(timeoutMs = 10_000) {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    if (this.process.connected) {
      this.request('stop').catch(() => undefined);
    } else {
      this.process.kill('SIGTERM');
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Child side: answers requests with `handlers[cmd](message)`; 'stop' runs `onStop` then exits. */
function serve(handlers, onStop = async () => undefined) {
  // Ctrl-C reaches the whole process group: the parent decides when this process ends.
  process.on('SIGINT', () => undefined);
  const leave = () =>
    onStop()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  process.on('disconnect', leave);
  process.on('message', (message) => {
    if (message.cmd === 'stop') return void leave();
    const handler = handlers[message.cmd];
    if (!handler) return process.send({ type: 'error', id: message.id, message: `unknown command ${message.cmd}` });
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (reply) => process.send({ ...reply, type: 'reply', id: message.id }),
        (error) => process.send({ type: 'error', id: message.id, message: error.stack || String(error) }),
      );
  });
  process.send({ type: 'ready' });
}

module.exports = { Child, serve };
