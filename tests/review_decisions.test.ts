/**
 * The page's decision requests (lib/review/decisions.ts): each verb's body validated by name; a verb the curation
 * API lacks is refused, not faked.
 */
import { describe, expect, test } from "vitest";
import { availableVerbs, type CurationApi, curationApi, decide, DECISION_VERBS, DecisionRequestError, parseDecision } from "../lib/review/mod";

describe("parseDecision", () => {
  test.each([
    [{ verb: "name", set: "faceset_007", person: " Ada " }, { verb: "name", set: "faceset_007", person: "Ada" }],
    [{ verb: "merge", sets: ["faceset_002"], into: "faceset_001" }, { verb: "merge", sets: ["faceset_002"], into: "faceset_001" }],
    [{ verb: "move", faces: ["f1", "f2"], to: "faceset_003" }, { verb: "move", faces: ["f1", "f2"], to: "faceset_003" }],
    [{ verb: "reject", set: "faceset_003", faces: ["f1"] }, { verb: "reject", set: "faceset_003", faces: ["f1"] }],
    [{ verb: "split", set: "faceset_003", faces: ["f1"] }, { verb: "split", set: "faceset_003", faces: ["f1"] }],
    [{ verb: "dismiss", set: "faceset_003" }, { verb: "dismiss", set: "faceset_003" }],
    [{ verb: "restore", set: "faceset_003" }, { verb: "restore", set: "faceset_003" }],
    [{ verb: "create", faces: ["a", "b"] }, { verb: "create", faces: ["a", "b"] }],
    [{ verb: "undo", extra: 1 }, { verb: "undo" }],
  ])("%j", (body, expected) => {
    expect(parseDecision(body)).toEqual(expected);
  });

  test.each([
    [null, /JSON object/],
    [[], /JSON object/],
    [{ verb: "delete-everything" }, /unknown verb "delete-everything"/],
    [{ verb: "name", set: "faceset_007" }, /"person" must be a non-empty string/],
    [{ verb: "name", set: "faceset_007", person: "  " }, /"person"/],
    [{ verb: "merge", sets: "faceset_002", into: "faceset_001" }, /"sets" must be a list/],
    [{ verb: "reject", set: "faceset_003", faces: [] }, /"faces" must be a list of at least 1/],
    [{ verb: "create", faces: ["a", 3] }, /"faces"/],
  ])("refuses %j", (body, message) => {
    expect(() => parseDecision(body)).toThrow(DecisionRequestError);
    expect(() => parseDecision(body)).toThrow(message);
  });
});

describe("decide", () => {
  // Every verb is carried out through the real lib/curation in tests/review_browser.test.ts; here only the refusal.
  const target = { libraryDir: "/nonexistent/library" };

  test("the page offers every verb lib/curation provides", () => {
    expect(availableVerbs(curationApi)).toEqual(DECISION_VERBS);
  });

  test("a verb whose curation function is missing is refused by name, never carried out another way", async () => {
    const api: Partial<CurationApi> = { undoLast: curationApi.undoLast };
    expect(availableVerbs(api)).toEqual(["undo"]);
    await expect(decide(api, target, { verb: "merge", sets: ["a"], into: "b" })).rejects.toThrow(/"merge" is not available: lib\/curation has no mergeSets/);
  });
});
