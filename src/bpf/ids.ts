// Kernel-style id allocation for maps, programs and links (bpftool's ids).

/**
 * Starting ids; the defaults make a fresh lab look like the seed cluster (map ids ~10, prog ids ~1250,
 * link ids 13, BTF ids 293: vmlinux and module BTF come first, then cilium/ebpf loads one BTF object
 * per program just before the program, so the seed's prog 1311 carries btf_id 349).
 */
export interface IdAllocatorOptions { firstMapId?: number; firstProgId?: number; firstLinkId?: number; firstBtfId?: number }

/** Hands out increasing ids, one counter per object kind, like the kernel's idr allocators. */
export class IdAllocator {
  private map: number;
  private prog: number;
  private link: number;
  private btf: number;
  constructor(o: IdAllocatorOptions = {}) {
    this.map = o.firstMapId ?? 10;
    this.prog = o.firstProgId ?? 1250;
    this.link = o.firstLinkId ?? 13;
    this.btf = o.firstBtfId ?? 293;
  }
  nextMapId(): number { return this.map++; }
  nextProgId(): number { return this.prog++; }
  nextLinkId(): number { return this.link++; }
  nextBtfId(): number { return this.btf++; }
}
