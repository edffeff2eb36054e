/**
 * Email addresses, one rule for `orgctl validate` and the platform alike: a practical subset of RFC 5321 (no
 * quoted local parts, no IP literals), with internationalized addresses (RFC 6531) compared in Unicode NFC,
 * and without what makes two addresses look alike while being different: control and invisible characters,
 * and letters of several scripts in one part (a Cyrillic "а" among Latin letters).
 */

// The common case in one regex; only an address that fails it is taken apart to say what is wrong.
const PLAIN_EMAIL = /^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,63}$/i;
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Characters no address may hold: controls (NUL, DEL, C1), format characters (zero-width spaces and joiners,
 * bidirectional controls, the BOM, soft hyphens), other default-ignorable ones (fillers, variation
 * selectors), separators other than ASCII space, surrogates (text that was not valid Unicode), private-use
 * and unassigned code points, and U+FFFD, what a decoder puts where bytes were not valid UTF-8.
 */
const CONTROL = /\p{Cc}/u;
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Z}]/u;
const NOT_TEXT = /[\p{Cs}\p{Co}\p{Cn}\uFFFD]/u;

const at = (i: number) => `at character ${i + 1}`;
const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** The first character no address may hold, said with where it is (1-based, in characters). */
function forbiddenCharacter(email: string): string | undefined {
  let i = 0;
  for (const c of email) {
    if (CONTROL.test(c)) return `has a control character ${codePoint(c)} ${at(i)}`;
    if (c === '\uFFFD') return `has ${codePoint(c)} ${at(i)}, the replacement of bytes that were not valid UTF-8`;
    if (c !== ' ' && INVISIBLE.test(c)) return `has an invisible character ${codePoint(c)} ${at(i)}`;
    if (NOT_TEXT.test(c)) return `has ${codePoint(c)} ${at(i)}, which is not a character addresses may hold`;
    i++;
  }
  return undefined;
}

// ---- scripts ----

// Unicode scripts by their property names, tested in order; Common and Inherited (digits, punctuation,
// combining marks) go with any script. A letter of a script this list (or this Node) does not name counts
// as an "unknown" script of its own.
const SCRIPT_NAMES =
  'Latin Cyrillic Greek Han Hiragana Katakana Hangul Bopomofo Arabic Hebrew Armenian Georgian Devanagari Bengali Gurmukhi Gujarati Oriya Tamil Telugu Kannada Malayalam Sinhala Thai Lao Tibetan Myanmar Khmer Mongolian Ethiopic Cherokee Canadian_Aboriginal Syriac Thaana Nko Tifinagh Vai Yi Javanese Balinese Sundanese Adlam Ahom Anatolian_Hieroglyphs Avestan Bamum Bassa_Vah Batak Bhaiksuki Brahmi Braille Buginese Buhid Carian Caucasian_Albanian Chakma Cham Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan Deseret Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Glagolitic Gothic Grantha Gunjala_Gondi Hanifi_Rohingya Hanunoo Hatran Imperial_Aramaic Inscriptional_Pahlavi Inscriptional_Parthian Kaithi Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khojki Khudawadi Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mro Multani Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sogdian Sora_Sompeng Soyombo Syloti_Nagri Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tangsa Tangut Tirhuta Toto Ugaritic Vithkuqi Wancho Warang_Citi Yezidi Zanabazar_Square';
let scripts: { name: string; re: RegExp }[] | undefined;
function scriptTable(): { name: string; re: RegExp }[] {
  // Built on first use: ASCII addresses, nearly all of them, never need it.
  scripts ??= SCRIPT_NAMES.split(' ').flatMap((name) => {
    try {
      return [{ name: name.replace(/_/g, ' '), re: new RegExp(`^\\p{Script=${name}}$`, 'u') }];
    } catch {
      return []; // a script this Node's regular expressions do not know yet
    }
  });
  return scripts;
}
const LETTER = /^\p{L}$/u;

function scriptOf(letter: string): string {
  return scriptTable().find((s) => s.re.test(letter))?.name ?? 'unknown';
}

/**
 * Scripts that may share one part of an address: Japanese and Korean writing mix Han with kana or Hangul,
 * and Latin with any of them (Unicode TS 39, "highly restrictive").
 */
const MIXES = [new Set(['Latin', 'Han', 'Hiragana', 'Katakana']), new Set(['Latin', 'Han', 'Bopomofo']), new Set(['Latin', 'Han', 'Hangul'])];

/** Says where a part first mixes scripts (`part` names it in the message), or undefined if it does not. */
function mixedScripts(text: string, offset: number, part: string): string | undefined {
  if (ASCII.test(text)) return undefined;
  const seen: string[] = [];
  let i = offset;
  for (const c of text) {
    if (LETTER.test(c)) {
      const script = scriptOf(c);
      if (!seen.includes(script)) {
        const all = [...seen, script];
        if (seen.length > 0 && !MIXES.some((m) => all.every((s) => m.has(s)))) {
          return `mixes scripts ${part}: ${codePoint(c)} ${at(i)} is ${script}, after ${seen.join(' and ')} letters`;
        }
        seen.push(script);
      }
    }
    i++;
  }
  return undefined;
}

// ---- the rule ----

const ATEXT = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/;
// Internationalized local parts: ASCII atext, letters, combining marks and digits of any script.
const LOCAL_UNICODE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\p{L}\p{M}\p{Nd}-]+$/u;
const LABEL = /^[\p{L}\p{M}\p{Nd}](?:[\p{L}\p{M}\p{Nd}-]{0,61}[\p{L}\p{M}\p{Nd}])?$/u;
const TLD = /^(?:[A-Za-z]{2,63}|\p{L}[\p{L}\p{M}]{1,62}|xn--[a-z0-9-]{1,59})$/iu;

/**
 * What is wrong with an address as written, or undefined when it is fine. The address is judged in NFC, the
 * form it is compared and stored in, so an address typed in decomposed form (e + U+0301) passes like its
 * composed twin; `normalizeEmail` gives that form.
 */
export function emailProblem(email: string): string | undefined {
  if (email.length <= 254 && PLAIN_EMAIL.test(email) && email.indexOf('@') <= 64 && !/[a-z0-9-]{64}/i.test(email)) return undefined;
  if (/^[ \t\r\n]|[ \t\r\n]$/.test(email)) return 'has leading or trailing spaces';
  const bad = forbiddenCharacter(email);
  if (bad) return bad;
  const nfc = email.normalize('NFC');
  if ([...nfc].length > 254) return 'has more than 254 characters';
  const split = nfc.lastIndexOf('@');
  if (split === -1) return 'has no "@"';
  const local = nfc.slice(0, split);
  const domain = nfc.slice(split + 1);
  if (local.length === 0) return 'has nothing before "@"';
  if ([...local].length > 64) return 'has more than 64 characters before "@"';
  if (local.includes('@')) return 'has more than one "@"';
  if (!ATEXT.test(local)) {
    if (!LOCAL_UNICODE.test(local)) return 'has characters not allowed before "@"';
    if (/^\p{M}/u.test(local)) return 'starts with a combining mark';
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return 'has a misplaced "." before "@"';
  const localMix = mixedScripts(local, 0, 'before "@"');
  if (localMix) return localMix;
  if (domain.length === 0) return 'has no domain after "@"';
  if (!domain.includes('.')) return `domain "${domain}" has no "."`;
  const labels = domain.split('.');
  let offset = [...local].length + 1;
  for (const label of labels) {
    if (!LABEL.test(label)) return `domain "${domain}" is not a valid host name`;
    const mix = mixedScripts(label, offset, `in the domain label "${label}"`);
    if (mix) return mix;
    offset += [...label].length + 1;
  }
  if (!TLD.test(labels[labels.length - 1]!)) return `domain "${domain}" does not end in a top-level domain`;
  return undefined;
}

/**
 * The form addresses are compared and stored in: without surrounding spaces, in Unicode NFC (one form for
 * "é" typed as one character or as e + U+0301), lower case.
 */
export function normalizeEmail(email: string): string {
  const trimmed = email.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (ASCII.test(trimmed)) return trimmed.toLowerCase();
  return trimmed.normalize('NFC').toLowerCase().normalize('NFC');
}
