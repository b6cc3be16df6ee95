// The functions and methods policy expressions may call, with their signatures for the checker.
//
// Only what the evaluator implements (CEL's standard library and the strings extension) is declared, so a
// call the checker accepts never fails at evaluation for want of a function.

import { T, list, type CelT } from "./types.ts";

/** One signature. `target` is set for receiver-style calls (`s.startsWith("a")`). */
export interface Overload {
  readonly target?: CelT;
  readonly args: readonly CelT[];
  readonly result: CelT;
}

const { bool, int, uint, double, string, bytes, dyn, timestamp, duration } = T;
const listString = list(string);

function fn(...overloads: readonly (readonly [readonly CelT[], CelT])[]): readonly Overload[] {
  return overloads.map(([args, result]) => ({ args, result }));
}

function method(target: CelT, ...overloads: readonly (readonly [readonly CelT[], CelT])[]): readonly Overload[] {
  return overloads.map(([args, result]) => ({ target, args, result }));
}

const timestampGetters = [
  "getFullYear",
  "getMonth",
  "getDayOfYear",
  "getDayOfMonth",
  "getDate",
  "getDayOfWeek",
  "getHours",
  "getMinutes",
  "getSeconds",
  "getMilliseconds",
] as const;

/** Global functions (conversions, `matches`). `size` and `type` are handled by the checker itself. */
export const FUNCTIONS: Readonly<Record<string, readonly Overload[]>> = {
  int: fn([[int], int], [[uint], int], [[double], int], [[string], int], [[timestamp], int], [[duration], int]),
  uint: fn([[uint], uint], [[int], uint], [[double], uint], [[string], uint]),
  double: fn([[double], double], [[int], double], [[uint], double], [[string], double]),
  string: fn(
    [[string], string],
    [[int], string],
    [[uint], string],
    [[double], string],
    [[bool], string],
    [[bytes], string],
    [[timestamp], string],
    [[duration], string],
  ),
  bytes: fn([[bytes], bytes], [[string], bytes]),
  bool: fn([[bool], bool], [[string], bool]),
  dyn: fn([[dyn], dyn]),
  timestamp: fn([[string], timestamp], [[int], timestamp], [[timestamp], timestamp]),
  duration: fn([[string], duration], [[int], duration], [[duration], duration]),
  matches: fn([[string, string], bool]),
  "strings.quote": fn([[string], string]),
};

/** Receiver-style methods. */
export const METHODS: Readonly<Record<string, readonly Overload[]>> = {
  contains: method(string, [[string], bool]),
  startsWith: method(string, [[string], bool]),
  endsWith: method(string, [[string], bool]),
  matches: method(string, [[string], bool]),
  charAt: method(string, [[int], string]),
  indexOf: method(string, [[string], int], [[string, int], int]),
  lastIndexOf: method(string, [[string], int], [[string, int], int]),
  lowerAscii: method(string, [[], string]),
  upperAscii: method(string, [[], string]),
  replace: method(string, [[string, string], string], [[string, string, int], string]),
  split: method(string, [[string], listString], [[string, int], listString]),
  substring: method(string, [[int], string], [[int, int], string]),
  trim: method(string, [[], string]),
  join: method(listString, [[], string], [[string], string]),
  format: method(string, [[list(dyn)], string]),
  ...Object.fromEntries(
    timestampGetters.map((name) => [name, [...method(timestamp, [[], int], [[string], int])]]),
  ),
  getHours: [...method(timestamp, [[], int], [[string], int]), ...method(duration, [[], int])],
  getMinutes: [...method(timestamp, [[], int], [[string], int]), ...method(duration, [[], int])],
  getSeconds: [...method(timestamp, [[], int], [[string], int]), ...method(duration, [[], int])],
  getMilliseconds: [...method(timestamp, [[], int], [[string], int]), ...method(duration, [[], int])],
};
