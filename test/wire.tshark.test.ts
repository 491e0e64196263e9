import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapFile } from '../src/wire/pcap.ts';
import { checkPcapChecksums, findTshark } from './helpers/tshark.ts';
import { sampleCapture } from './helpers/wire_fixtures.ts';

const tshark = await findTshark();
const skip = tshark ? false : process.env.CI ? false : 'tshark not installed (CI installs it with apt-get)';

t.test('Wireshark finds every checksum good and no expert errors', { skip }, async (t) => {
  if (!tshark) { t.fail('tshark is required in CI but is not installed'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'dplab-tshark-'));
  const frames = sampleCapture();
  const good = join(dir, 'sample.pcap');
  writeFileSync(good, pcapFile(frames));
  const r = await checkPcapChecksums(good);
  t.equal(r.packets, frames.length, 'tshark read every frame');
  t.same(r.bad, [], 'no bad checksum');
  t.ok(r.ok);

  // The checker must notice damage: flip a bit in the first frame's TCP checksum.
  const broken = frames.map((f) => ({ ...f, frame: f.frame.slice() }));
  broken[0]!.frame[14 + 20 + 16]! ^= 0x01;
  const bad = join(dir, 'broken.pcap');
  writeFileSync(bad, pcapFile(broken));
  const rb = await checkPcapChecksums(bad);
  t.notOk(rb.ok);
  t.same(rb.bad, ['frame 1: tcp.checksum.status=0']);
});
