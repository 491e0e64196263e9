// Kernel-style id allocation for maps, programs and links (bpftool's ids).

/** Starting ids; the defaults make a fresh lab look like the seed cluster (map ids ~10, prog ids ~1250, link ids 13). */
export interface IdAllocatorOptions { firstMapId?: number; firstProgId?: number; firstLinkId?: number }

/** Hands out increasing ids, one counter per object kind, like the kernel's idr allocators. */
export class IdAllocator {
  private map: number;
  private prog: number;
  private link: number;
  constructor(o: IdAllocatorOptions = {}) {
    this.map = o.firstMapId ?? 10;
    this.prog = o.firstProgId ?? 1250;
    this.link = o.firstLinkId ?? 13;
  }
  nextMapId(): number { return this.map++; }
  nextProgId(): number { return this.prog++; }
  nextLinkId(): number { return this.link++; }
}
