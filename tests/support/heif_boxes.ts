/**
 * Edits of real HEIF files for the format tests (no HEIF encoder is installable here): add an `irot` display
 * rotation to the primary image (growing ipco/ipma/iprp/meta and shifting iloc's file offsets), and rewrite the
 * EXIF Orientation value inside the file's Exif item in place.
 */

interface Box {
  type: string;
  start: number;
  size: number;
  /** Where the children or payload begin (after the header, and after version/flags for full boxes). */
  body: number;
}

const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const FULL_BOXES = new Set(["meta", "iloc", "pitm", "ipma", "iinf"]);

function boxes(b: Uint8Array, from: number, to: number): Box[] {
  const out: Box[] = [];
  for (let at = from; at + 8 <= to;) {
    const size = u32(b, at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    if (size < 8) throw new Error(`heif_boxes: box ${type} of size ${size} (64-bit sizes are not handled)`);
    out.push({ type, start: at, size, body: at + 8 + (FULL_BOXES.has(type) ? 4 : 0) });
    at += size;
  }
  return out;
}

const find = (list: Box[], type: string) => {
  const box = list.find((x) => x.type === type);
  if (!box) throw new Error(`heif_boxes: no ${type} box`);
  return box;
};

function withSize(type: string, payload: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out.set(be32(8 + payload.length), 0);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(payload, 8);
  return out;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Add `irot` (anticlockwise quarter turns, 1..3) to the primary image of a HEIF file whose mdat follows meta. */
export function withIrot(heif: Uint8Array, quarterTurnsCcw: 1 | 2 | 3): Uint8Array {
  const top = boxes(heif, 0, heif.length);
  const meta = find(top, "meta");
  const kids = boxes(heif, meta.body, meta.start + meta.size);
  const pitm = find(kids, "pitm");
  const primary = heif[pitm.start + 8] === 0 ? u16(heif, pitm.body) : u32(heif, pitm.body);
  const iprp = find(kids, "iprp");
  const props = boxes(heif, iprp.body, iprp.start + iprp.size);
  const ipco = find(props, "ipco");
  const ipma = find(props, "ipma");

  const irot = withSize("irot", [quarterTurnsCcw]);
  const propertyIndex = boxes(heif, ipco.body, ipco.start + ipco.size).length + 1;
  const newIpco = withSize("ipco", concat(heif.subarray(ipco.body, ipco.start + ipco.size), irot));

  // ipma: version/flags, entry_count, entries of (item id, n, n associations); 1-byte associations unless flags & 1.
  const version = heif[ipma.start + 8]!;
  const wide = (heif[ipma.start + 11]! & 1) === 1;
  const payload: number[] = [...heif.subarray(ipma.start + 8, ipma.start + 16)]; // version/flags + entry_count
  let at = ipma.start + 16;
  const entries = u32(heif, ipma.start + 12);
  for (let e = 0; e < entries; e++) {
    const idBytes = version < 1 ? 2 : 4;
    const item = idBytes === 2 ? u16(heif, at) : u32(heif, at);
    const n = heif[at + idBytes]!;
    const assocBytes = n * (wide ? 2 : 1);
    const assoc = [...heif.subarray(at + idBytes + 1, at + idBytes + 1 + assocBytes)];
    if (item === primary) assoc.push(...(wide ? [0x80 | (propertyIndex >> 8), propertyIndex & 255] : [0x80 | propertyIndex]));
    payload.push(...heif.subarray(at, at + idBytes), item === primary ? n + 1 : n, ...assoc);
    at += idBytes + 1 + assocBytes;
  }
  const otherProps = props.filter((p) => p.type !== "ipco" && p.type !== "ipma").map((p) => heif.subarray(p.start, p.start + p.size));
  const newIprp = withSize("iprp", concat(newIpco, withSize("ipma", payload), ...otherProps));
  const delta = newIprp.length - iprp.size;

  const iloc = find(kids, "iloc");
  const newIloc = shiftIloc(heif.slice(iloc.start, iloc.start + iloc.size), delta);
  const metaKids = kids.map((k) => (k.type === "iprp" ? newIprp : k.type === "iloc" ? newIloc : heif.subarray(k.start, k.start + k.size)));
  const newMeta = withSize("meta", concat(heif.subarray(meta.start + 8, meta.start + 12), ...metaKids));
  return concat(heif.subarray(0, meta.start), newMeta, heif.subarray(meta.start + meta.size));
}

/** Add `delta` to every file offset in an iloc box (construction method 0). */
function shiftIloc(iloc: Uint8Array, delta: number): Uint8Array {
  const version = iloc[8]!;
  const offsetSize = iloc[12]! >> 4, lengthSize = iloc[12]! & 15, baseSize = iloc[13]! >> 4;
  const indexSize = version >= 1 ? iloc[13]! & 15 : 0;
  let at = 14;
  const count = version < 2 ? u16(iloc, at) : u32(iloc, at);
  at += version < 2 ? 2 : 4;
  const add = (pos: number, size: number) => {
    if (size === 4) iloc.set(be32(u32(iloc, pos) + delta), pos);
    else if (size === 8) iloc.set(be32(u32(iloc, pos + 4) + delta), pos + 4);
  };
  for (let i = 0; i < count; i++) {
    at += version < 2 ? 2 : 4; // item id
    let method = 0;
    if (version >= 1) {
      method = u16(iloc, at) & 15;
      at += 2;
    }
    at += 2; // data reference index
    const base = at;
    at += baseSize;
    const extents = u16(iloc, at);
    at += 2;
    if (method === 0 && baseSize > 0) add(base, baseSize);
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      if (method === 0 && baseSize === 0) add(at, offsetSize);
      at += offsetSize + lengthSize;
    }
  }
  return iloc;
}

/** The HEIF file with the Orientation SHORT of its Exif item (little- or big-endian TIFF) set to `value`. */
export function withExifOrientation(heif: Uint8Array, value: number): Uint8Array {
  const out = heif.slice();
  const mdat = find(boxes(out, 0, out.length), "mdat");
  for (let i = mdat.body; i + 8 < out.length; i++) {
    const le = out[i] === 0x49 && out[i + 1] === 0x49 && out[i + 2] === 0x2a && out[i + 3] === 0;
    const bigE = out[i] === 0x4d && out[i + 1] === 0x4d && out[i + 2] === 0 && out[i + 3] === 0x2a;
    if (!le && !bigE) continue;
    const view = new DataView(out.buffer, out.byteOffset + i);
    const ifd = view.getUint32(4, le);
    const n = view.getUint16(ifd, le);
    for (let k = 0; k < n; k++) {
      const entry = ifd + 2 + 12 * k;
      if (view.getUint16(entry, le) === 0x0112) {
        view.setUint16(entry + 8, value, le);
        return out;
      }
    }
  }
  throw new Error("heif_boxes: no EXIF Orientation in the file");
}
