import t from 'tap';
import { pcapFile, pcapHeader, pcapRecord, pcapRecordMs, readPcap, simTimeToParts, wallMsToParts } from '../src/wire/pcap.ts';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('global header bytes', async (t) => {
  t.equal(toHex(pcapHeader()), 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
  t.equal(toHex(pcapHeader({ nanosecond: true }).subarray(0, 4)), '4d3cb2a1');
});

t.test('record bytes and snaplen cut', async (t) => {
  const r = pcapRecord(new Uint8Array([1, 2, 3]), 1729509130, 998123);
  t.equal(toHex(r), '0a371667' + 'eb3a0f00' + '03000000' + '03000000' + '010203');
  const cut = pcapRecord(new Uint8Array(10), 0, 0, 4);
  t.same([cut.length, cut[8], cut[12]], [16 + 4, 4, 10], 'caplen 4, original length 10');
});

t.test('wall-clock milliseconds split into seconds and fraction', async (t) => {
  const cases: Array<[number, boolean, [number, number]]> = [
    [1729509130998.123, false, [1729509130, 998123]],
    [1729509130998.123, true, [1729509130, 998123000]],
    [1999.9999999, false, [2, 0]],
    [1000.9999999, false, [1, 1000]],
  ];
  for (const [ms, nano, want] of cases) t.same(wallMsToParts(ms, nano), want, `${ms} ${nano ? 'ns' : 'us'}`);
  const epochMs = Date.UTC(2024, 9, 21, 11, 10, 0);
  t.same(simTimeToParts(epochMs + 998, 123_456_789, true), [1729509001, 121_456_789], 'exact nanoseconds from the Sim clock');
  t.same(simTimeToParts(epochMs + 998, 123_456_789), [1729509001, 121_456]);
});

t.test('readPcap reads what the writer wrote, in both precisions', async (t) => {
  for (const nanosecond of [false, true]) {
    const file = pcapFile([{ frame: new Uint8Array([9, 8, 7]), wallMs: 1500.25 }, { frame: new Uint8Array(60), wallMs: 2000 }], { nanosecond });
    const p = readPcap(file);
    t.match(p, { nanosecond, snaplen: 262144, linktype: 1 });
    t.same(p.records.map((r) => [r.sec, r.frac, r.origLen, r.data.length]), [[1, nanosecond ? 500250000 : 500250, 3, 3], [2, 0, 60, 60]]);
  }
  t.equal(toHex(pcapRecordMs(new Uint8Array(0), 1500.25).subarray(0, 8)), '01000000' + '1aa20700');
});

t.test('readPcap rejects damaged files', async (t) => {
  const good = pcapFile([{ frame: new Uint8Array(20), wallMs: 0 }]);
  t.throws(() => readPcap(good.subarray(0, 10)), /shorter than its global header/);
  t.throws(() => readPcap(good.subarray(0, 30)), /truncated record header/);
  t.throws(() => readPcap(good.subarray(0, 50)), /truncated record at offset 24/);
  t.throws(() => readPcap(new Uint8Array(24)), /bad magic/);
});
