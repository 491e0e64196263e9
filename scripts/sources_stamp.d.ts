// Types of sources_stamp.js (plain JS: bin/dplab.js loads it before any TypeScript runs).
export declare const SOURCE_DIRS: string[];
export declare const STAMP_NAME: string;
export declare function sourcesStamp(root: string): string;
export declare function distIsFresh(root: string): boolean;
