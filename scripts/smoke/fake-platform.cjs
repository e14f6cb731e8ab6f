// Preload (node -r): makes this process report another platform, as on macOS or Windows, before
// uring is loaded. URING_FAKE_PLATFORM names it (darwin, win32, freebsd, ...).
'use strict'
Object.defineProperty(process, 'platform', { value: process.env.URING_FAKE_PLATFORM || 'darwin' })
