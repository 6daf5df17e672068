#!/usr/bin/env node
// A plain WebSocket broadcast server with Beraad's wire format (docs/protocol.md), as a
// yardstick for beraad-load: no database, no auth, no per-reader filtering. It keeps a
// per-topic counter and a small in-memory replay buffer so that resuming with `after`
// works as in Beraad.
//
//   node server.js --port 18282 [--host 127.0.0.1] [--backlog 1024] [--max-buffered 1048576]
//
// WebSocket  GET  /api/v1/ws            subscribe / unsubscribe / ping, as in the protocol
// HTTP       POST /publish              {"topic":"case:1","body":"..."} → broadcasts post.created
// HTTP       GET  /head?topic=case:1    {"head":N}
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { WebSocketServer, WebSocket } = require('ws');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const PORT = Number(option('port', '18282'));
const HOST = option('host', '127.0.0.1');
const BACKLOG = Number(option('backlog', '1024'));
const MAX_BUFFERED = Number(option('max-buffered', String(1024 * 1024)));
const MAX_MESSAGE = 64 * 1024;
const PING_EVERY_MS = 25_000;
const IDLE_TIMEOUT_MS = 90_000;
const EPOCH = crypto.randomBytes(8).toString('hex');
const TOPIC_RE = /^case:[1-9][0-9]{0,17}$/;

/** topic name → { seq, subs: Set<WebSocket>, recent: [{seq, frame}], presenceDirty } */
const topics = new Map();
let postId = 0;

function topicOf(name) {
  let t = topics.get(name);
  if (!t) {
    t = { seq: 0, subs: new Set(), recent: [], presenceDirty: false };
    topics.set(name, t);
  }
  return t;
}

function errorFrame(code, topic, message) {
  return JSON.stringify({ type: 'error', code, topic: topic ?? null, message });
}

function leaveAll(ws) {
  for (const name of ws.topics) {
    const t = topics.get(name);
    if (t && t.subs.delete(ws)) t.presenceDirty = true;
  }
  ws.topics.clear();
}

// Sends a frame, or tells a connection that fell too far behind to resync and closes it
// (close code 4002), like Beraad does with a full outbox.
function deliver(ws, frame) {
  if (ws.readyState !== WebSocket.OPEN || ws.lagging) return;
  if (ws.bufferedAmount > MAX_BUFFERED) {
    ws.lagging = true;
    leaveAll(ws);
    ws.send(errorFrame('resync_required', null, 'too far behind'));
    ws.close(4002, 'resync_required');
    setTimeout(() => ws.terminate(), 1000).unref();
    return;
  }
  ws.send(frame);
}

function subscribe(ws, msg) {
  const name = msg.topic;
  if (typeof name !== 'string' || !TOPIC_RE.test(name)) {
    ws.send(errorFrame('unknown_topic', name, 'unknown topic'));
    return;
  }
  const after = msg.after === undefined ? 0 : msg.after;
  if (!Number.isSafeInteger(after) || after < 0) {
    ws.send(errorFrame('bad_message', name, "'after' must be a non-negative integer"));
    return;
  }
  const t = topicOf(name);
  const tooOld = after < t.seq && (t.recent.length === 0 || t.recent[0].seq > after + 1);
  if ((msg.epoch && msg.epoch !== EPOCH) || after > t.seq || tooOld) {
    ws.send(errorFrame('resync_required', name, 'position not valid for this log'));
    return;
  }
  ws.send(JSON.stringify({ type: 'subscribed', topic: name, head: t.seq, epoch: EPOCH }));
  for (const e of t.recent) {
    if (e.seq > after) deliver(ws, e.frame);
  }
  t.subs.add(ws);
  ws.topics.add(name);
  t.presenceDirty = true;
}

function onMessage(ws, data, isBinary) {
  ws.lastHeard = Date.now();
  if (isBinary) {
    ws.send(errorFrame('bad_message', null, 'send JSON text messages'));
    return;
  }
  let msg;
  try {
    msg = JSON.parse(data.toString('utf8'));
  } catch {
    ws.send(errorFrame('bad_message', null, 'not JSON'));
    return;
  }
  switch (msg && msg.type) {
    case 'subscribe':
      subscribe(ws, msg);
      break;
    case 'unsubscribe': {
      const t = topics.get(msg.topic);
      if (t && t.subs.delete(ws)) t.presenceDirty = true;
      ws.topics.delete(msg.topic);
      break;
    }
    case 'ping':
      ws.send('{"type":"pong"}');
      break;
    default:
      ws.send(errorFrame('bad_message', null, 'unknown or incomplete message'));
  }
}

function publish(topicName, body) {
  const t = topicOf(topicName);
  t.seq += 1;
  postId += 1;
  const frame = JSON.stringify({
    type: 'event',
    topic: topicName,
    seq: t.seq,
    event: 'post.created',
    at: new Date().toISOString(),
    post: { id: postId, body },
  });
  t.recent.push({ seq: t.seq, frame });
  if (t.recent.length > BACKLOG) t.recent.shift();
  for (const ws of t.subs) deliver(ws, frame);
  return { seq: t.seq, id: postId };
}

function answer(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://peer');
  if (req.method === 'GET' && url.pathname === '/head') {
    const t = topics.get(url.searchParams.get('topic') || '');
    answer(res, 200, { head: t ? t.seq : 0, epoch: EPOCH });
    return;
  }
  if (req.method === 'POST' && url.pathname === '/publish') {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_MESSAGE) {
        answer(res, 413, { error: { code: 'too_large', message: 'body too large' } });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      let msg;
      try {
        msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        answer(res, 400, { error: { code: 'bad_json', message: 'not JSON' } });
        return;
      }
      if (!msg || typeof msg.topic !== 'string' || !TOPIC_RE.test(msg.topic) || typeof msg.body !== 'string') {
        answer(res, 422, { error: { code: 'bad_message', message: 'need topic case:N and body' } });
        return;
      }
      answer(res, 201, publish(msg.topic, msg.body));
    });
    return;
  }
  answer(res, 404, { error: { code: 'not_found', message: 'not found' } });
});

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: MAX_MESSAGE,
  clientTracking: true,
});

server.on('upgrade', (req, socket, head) => {
  const { pathname } = new URL(req.url, 'http://peer');
  if (pathname !== '/api/v1/ws') {
    socket.write('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

wss.on('connection', (ws) => {
  ws.topics = new Set();
  ws.lagging = false;
  ws.lastHeard = Date.now();
  ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
  ws.on('pong', () => {
    ws.lastHeard = Date.now();
  });
  ws.on('close', () => leaveAll(ws));
  ws.on('error', () => leaveAll(ws));
});

// Presence: at most once a second per topic whose audience changed.
setInterval(() => {
  for (const [name, t] of topics) {
    if (!t.presenceDirty) continue;
    t.presenceDirty = false;
    const frame = JSON.stringify({ type: 'presence', topic: name, panelists: t.subs.size, staff: 0 });
    for (const ws of t.subs) deliver(ws, frame);
  }
}, 1000).unref();

// Pings every 25 s; a connection silent for 90 s is closed.
setInterval(() => {
  const now = Date.now();
  for (const ws of wss.clients) {
    if (now - ws.lastHeard > IDLE_TIMEOUT_MS) {
      ws.terminate();
    } else if (ws.readyState === WebSocket.OPEN) {
      ws.ping();
    }
  }
}, PING_EVERY_MS).unref();

server.listen(PORT, HOST, () => {
  console.error(`ws-peer listening on http://${HOST}:${PORT} (epoch ${EPOCH})`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const ws of wss.clients) ws.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
