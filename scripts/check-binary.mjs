#!/usr/bin/env node
// Checks a built uring.<platform>.node against what its hosts need (issue #5), by reading the ELF
// file itself, so it also works on binaries built for another architecture:
// - its machine and libc match the platform in its name (x64/arm64; gnu needs libc.so.6, musl libc.so);
// - it imports neither napi_create_external_arraybuffer nor napi_create_external_buffer: Electron
//   >= 21 refuses external buffers, and a binary that does not import them cannot call them;
// - it imports no uv_* symbol: libuv is looked up with dlsym when a ring starts
//   (crates/uring-napi/src/uv.rs), so loading never depends on how the host exports libuv.
// Usage: node scripts/check-binary.mjs FILE.node...   (exit 1 on any problem)
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'

const SHT_DYNAMIC = 6
const SHT_DYNSYM = 11
const DT_NEEDED = 1
const MACHINES = { 62: 'x64', 183: 'arm64' }

/** The dynamic symbols of an ELF64 little-endian shared object, and the libraries it needs. */
export function readElf(path) {
  const b = readFileSync(path)
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`)
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${path} is not ELF64 little-endian`)
  const machine = MACHINES[b.readUInt16LE(0x12)] ?? `e_machine ${b.readUInt16LE(0x12)}`
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const shnum = b.readUInt16LE(0x3c)
  const section = (i) => {
    const o = shoff + i * shentsize
    return {
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      entsize: Number(b.readBigUInt64LE(o + 0x38)),
    }
  }
  const string = (strtab, off) => {
    const start = strtab.offset + off
    return b.toString('latin1', start, b.indexOf(0, start))
  }
  const out = { machine, undefined: [], defined: [], needed: [] }
  for (let i = 0; i < shnum; i++) {
    const s = section(i)
    if (s.type === SHT_DYNSYM) {
      const strtab = section(s.link)
      // Entry 0 is the reserved null symbol; st_shndx 0 means "provided by someone else".
      for (let o = s.offset + s.entsize; o < s.offset + s.size; o += s.entsize) {
        const name = string(strtab, b.readUInt32LE(o))
        if (name) (b.readUInt16LE(o + 6) === 0 ? out.undefined : out.defined).push(name)
      }
    } else if (s.type === SHT_DYNAMIC) {
      const strtab = section(s.link)
      for (let o = s.offset; o + 16 <= s.offset + s.size; o += 16) {
        if (Number(b.readBigInt64LE(o)) === DT_NEEDED) out.needed.push(string(strtab, Number(b.readBigUInt64LE(o + 8))))
      }
    }
  }
  return out
}

/** Problems found in one binary (an empty list when it is fine). */
export function checkBinary(path) {
  const elf = readElf(path)
  const problems = []
  const m = /\.linux-(x64|arm64)-(gnu|musl)\.node$/.exec(basename(path))
  if (m) {
    if (elf.machine !== m[1]) problems.push(`built for ${elf.machine}, named ${m[1]}`)
    // glibc's soname is libc.so.6; musl's is libc.so (Alpine), or a file named after musl.
    const glibc = elf.needed.includes('libc.so.6')
    const musl = elf.needed.some((n) => n === 'libc.so' || /musl/.test(n))
    if (m[2] === 'gnu' ? !glibc : glibc || !musl) problems.push(`needs ${elf.needed.join(', ') || 'no library'}: not a ${m[2]} binary`)
  } else {
    problems.push('the name is not uring.linux-<x64|arm64>-<gnu|musl>.node')
  }
  if (!elf.defined.includes('napi_register_module_v1')) problems.push('exports no napi_register_module_v1: not a napi module')
  for (const s of elf.undefined) {
    if (/^napi_create_external_(arraybuffer|buffer)$/.test(s)) problems.push(`imports ${s} (Electron refuses external buffers)`)
    if (s.startsWith('uv_')) problems.push(`imports ${s} at load time (libuv must be looked up at run time)`)
  }
  return problems
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = process.argv.slice(2)
  if (files.length === 0) {
    console.error('usage: node scripts/check-binary.mjs FILE.node...')
    process.exit(2)
  }
  let bad = 0
  for (const f of files) {
    const problems = checkBinary(f)
    const { machine, needed, undefined: imports } = readElf(f)
    console.log(`${f}: ${machine}, needs ${needed.join(' ')}, ${imports.length} imports: ${problems.length ? problems.join('; ') : 'ok'}`)
    if (problems.length) bad++
  }
  process.exit(bad ? 1 : 0)
}
