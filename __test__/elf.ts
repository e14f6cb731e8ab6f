// Reads the dynamic symbol table of an ELF64 little-endian shared object (the built .node file):
// which symbols it defines and which it expects the host process to provide.
import { readFileSync } from 'node:fs'

export interface DynamicSymbols {
  /** Symbols the object needs from the process that loads it (Node or Electron). */
  undefined: string[]
  /** Symbols it exports. */
  defined: string[]
}

const SHT_DYNSYM = 11

export function dynamicSymbols(path: string): DynamicSymbols {
  const b = readFileSync(path)
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`)
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${path} is not ELF64 little-endian`)
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const shnum = b.readUInt16LE(0x3c)
  const section = (i: number) => {
    const o = shoff + i * shentsize
    return {
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      entsize: Number(b.readBigUInt64LE(o + 0x38)),
    }
  }
  const out: DynamicSymbols = { undefined: [], defined: [] }
  for (let i = 0; i < shnum; i++) {
    const s = section(i)
    if (s.type !== SHT_DYNSYM) continue
    const strtab = section(s.link)
    const name = (off: number) => {
      const start = strtab.offset + off
      return b.toString('latin1', start, b.indexOf(0, start))
    }
    // Entry 0 is the reserved null symbol.
    for (let o = s.offset + s.entsize; o < s.offset + s.size; o += s.entsize) {
      const sym = name(b.readUInt32LE(o))
      const shndx = b.readUInt16LE(o + 6)
      if (sym) (shndx === 0 ? out.undefined : out.defined).push(sym)
    }
  }
  return out
}
