import test from 'ava'
import { displayText } from '../src/index.js'

test('displayText leaves ordinary text, accents and other scripts alone', (t) => {
  for (const s of ['Harry.Potter.mkv', 'Beyoncé – Halo.flac', 'ハリー・ポッター.mkv', 'a\\b', 'مرحبا.txt'])
    t.is(displayText(s), s)
})

test('displayText makes control characters, C1, ANSI sequences and bidi overrides visible', (t) => {
  t.is(displayText('a\x1b[2Jb'), 'a\\x1b[2Jb')
  t.is(displayText('x\nfake line\r\t'), 'x\\nfake line\\r\\t')
  t.is(displayText('\x00\x07\x7f'), '\\x00\\x07\\x7f')
  t.is(displayText('\u009b2J'), '\\x9b2J')
  t.is(displayText('evil\u202etxt.exe'), 'evil\\u202etxt.exe')
  t.is(
    displayText('\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029'),
    '\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c\\u2028\\u2029',
  )
  t.is(displayText(42), '42')
})

test('nothing displayText returns holds a character a terminal acts on', (t) => {
  let all = ''
  for (let c = 0; c < 0x3000; c++) all += String.fromCharCode(c)
  const shown = displayText(all)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for them
  t.false(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/.test(shown))
})
