// The entry form's conversions between inputs and the document contract (client/src/editor/
// form/codec.ts), run in Node as they are (Node strips the types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as codec from '../../client/src/editor/form/codec.ts';

test('numbers: finite numbers only, blank is empty, a wrong type shows blank', () => {
  assert.equal(codec.number.read('4'), 4);
  assert.equal(codec.number.read('-2.5'), -2.5);
  assert.equal(codec.number.read(''), undefined);
  assert.equal(codec.number.read('  '), undefined);
  assert.equal(codec.number.read('1e999'), undefined);
  assert.equal(codec.number.show(4), '4');
  assert.equal(codec.number.show('4'), '', 'the string "4" is not a number in the contract');
  assert.equal(codec.number.show(Number.NaN), '');
});

test('dates, selects, tags and references as the contract stores them', () => {
  assert.equal(codec.date.read('2026-11-23'), '2026-11-23');
  assert.equal(codec.date.show('2026-11-23'), '2026-11-23');
  assert.equal(codec.date.show('23/11/2026'), '');
  assert.equal(codec.date.show(20261123), '');
  assert.equal(codec.select.read(''), undefined);
  assert.deepEqual(codec.tags.read(' rust, crdt ,, rust '), ['rust', 'crdt']);
  assert.equal(codec.tags.read(' , '), undefined);
  assert.equal(codec.tags.show(['a', 3, 'b']), 'a, b');
  assert.equal(codec.tags.show('a'), '');
  assert.deepEqual(codec.reference.read(' doc-1 '), { id: 'doc-1' });
  assert.equal(codec.reference.read(''), undefined);
  assert.equal(codec.reference.show({ id: 'doc-1' }), 'doc-1');
  assert.equal(codec.reference.show({ id: 7 }), '');
  assert.equal(codec.reference.show(null), '');
});

test('images: both parts empty is empty; anything else is shown part by part', () => {
  assert.equal(codec.image(' ', ''), undefined);
  assert.deepEqual(codec.image(' /a.png ', ' A '), { src: '/a.png', alt: 'A' });
  assert.deepEqual(codec.imageParts({ src: '/a.png', alt: 5 }), { src: '/a.png', alt: '' });
  assert.deepEqual(codec.imageParts('x'), { src: '', alt: '' });
});

test('datetimes: the author\'s local time with its offset, shown back in local time', () => {
  assert.equal(codec.offsetText(-60), '+01:00');
  assert.equal(codec.offsetText(330), '-05:30');
  assert.equal(codec.offsetText(0), '+00:00');
  const paris = codec.datetime(() => -60); // UTC+1
  assert.equal(paris.read('2026-11-23T10:00'), '2026-11-23T10:00:00+01:00');
  assert.equal(paris.read('2026-11-23T10:00:30'), '2026-11-23T10:00:30+01:00');
  assert.equal(paris.read(''), undefined);
  assert.equal(paris.read('soon'), undefined);
  // Any offset is shown in the author's own zone.
  assert.equal(paris.show('2026-11-23T09:00:00Z'), '2026-11-23T10:00');
  assert.equal(paris.show('2026-11-23T04:00:15-05:00'), '2026-11-23T10:00:15');
  assert.equal(paris.show('2026-11-23'), '', 'a date is not a datetime');
  assert.equal(paris.show(42), '');
  // Round trip.
  assert.equal(paris.read(paris.show('2026-11-23T10:00:00+01:00')), '2026-11-23T10:00:00+01:00');
  // Near a DST change the offset of that local time is used, not the one of now.
  const berlin = (ms) => (ms >= Date.parse('2026-03-29T01:00:00Z') ? -120 : -60);
  assert.equal(codec.datetime(berlin).read('2026-03-29T12:00'), '2026-03-29T12:00:00+02:00');
  assert.equal(codec.datetime(berlin).read('2026-03-28T12:00'), '2026-03-28T12:00:00+01:00');
});
