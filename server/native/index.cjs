'use strict';
// Loads the compiled libvirt addon (built by `node-gyp rebuild` on install).
// Blocking libvirt calls run on the libuv pool: raise its size before the
// first async I/O of the process if the caller did not choose one.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';
const path = require('node:path');
module.exports = require(path.join(__dirname, 'build', 'Release', 'vmpulse_libvirt.node'));
