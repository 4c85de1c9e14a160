/**
 * Just enough of the ONNX protobuf to read the names and op types of a graph's first nodes. InsightFace picks an
 * ArcFace model's input normalisation from them (arcface_onnx.py: node names starting Sub/_minus and Mul/_mul
 * among the first 8 nodes mean an MXNet export that normalises inside the graph), and onnxruntime does not
 * expose graph nodes.
 */

const MODEL_GRAPH_FIELD = 7; // ModelProto.graph
const GRAPH_NODE_FIELD = 1; // GraphProto.node
const NODE_NAME_FIELD = 3; // NodeProto.name
const NODE_OP_TYPE_FIELD = 4; // NodeProto.op_type

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

interface Field {
  number: number;
  wire: number;
  start: number;
  end: number;
}

function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error("truncated varint");
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return [value, pos];
    multiplier *= 128;
  }
}

function* fields(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = readVarint(bytes, pos);
    const number = Math.floor(key / 8);
    const wire = key & 7;
    pos = afterKey;
    let fieldStart = pos;
    switch (wire) {
      case WIRE_VARINT:
        pos = readVarint(bytes, pos)[1];
        break;
      case WIRE_FIXED64:
        pos += 8;
        break;
      case WIRE_FIXED32:
        pos += 4;
        break;
      case WIRE_LENGTH: {
        const [length, afterLength] = readVarint(bytes, pos);
        fieldStart = afterLength;
        pos = afterLength + length;
        break;
      }
      default:
        throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    if (pos > end) throw new Error("truncated protobuf field");
    yield { number, wire, start: fieldStart, end: pos };
  }
}

export interface GraphNode {
  name: string;
  opType: string;
}

/** Name and op type of the first `count` nodes of an ONNX model's main graph, in file order. */
export function firstGraphNodes(model: Uint8Array, count: number): GraphNode[] {
  const decoder = new TextDecoder();
  for (const graph of fields(model, 0, model.length)) {
    if (graph.number !== MODEL_GRAPH_FIELD || graph.wire !== WIRE_LENGTH) continue;
    const nodes: GraphNode[] = [];
    for (const node of fields(model, graph.start, graph.end)) {
      if (node.number !== GRAPH_NODE_FIELD || node.wire !== WIRE_LENGTH) continue;
      const entry: GraphNode = { name: "", opType: "" };
      for (const f of fields(model, node.start, node.end)) {
        if (f.wire !== WIRE_LENGTH) continue;
        if (f.number === NODE_NAME_FIELD) entry.name = decoder.decode(model.subarray(f.start, f.end));
        if (f.number === NODE_OP_TYPE_FIELD) entry.opType = decoder.decode(model.subarray(f.start, f.end));
      }
      nodes.push(entry);
      if (nodes.length >= count) return nodes;
    }
    return nodes;
  }
  throw new Error("no graph in ONNX model");
}
