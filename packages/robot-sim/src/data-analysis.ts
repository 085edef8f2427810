import { z } from "zod";
import { defineService, ServiceError } from "./service.ts";

export const MAX_VALUES = 100_000;

const Input = z
  .object({
    values: z.array(z.number()).min(1).max(MAX_VALUES).describe("the numbers to describe (finite)"),
  })
  .strict();

const Statistics = z.object({
  count: z.number().int(),
  sum: z.number(),
  mean: z.number(),
  median: z.number(),
  min: z.number(),
  max: z.number(),
  stddev: z.number().describe("population standard deviation"),
});

export type Statistics = z.infer<typeof Statistics>;

/** Count, sum, mean, median, extremes and population standard deviation of a non-empty list. */
export function describeValues(values: readonly number[]): Statistics {
  const count = values.length;
  if (count === 0) throw new RangeError("describeValues needs at least one value");
  const sorted = Float64Array.from(values).sort();
  // Never undefined: the indices below stay inside a non-empty array.
  const nth = (index: number) => sorted[index] ?? Number.NaN;
  const middle = count >> 1;
  const median = count % 2 === 1 ? nth(middle) : (nth(middle - 1) + nth(middle)) / 2;
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / count;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  const statistics = {
    count,
    sum,
    mean,
    median,
    min: nth(0),
    max: nth(count - 1),
    stddev: Math.sqrt(squares / count),
  };
  // JSON has no Infinity: a result that overflowed would reach the caller as null.
  const overflowed = Object.entries(statistics).find(([, value]) => !Number.isFinite(value));
  if (overflowed) {
    throw new ServiceError(422, `input.values: numbers too large, their ${overflowed[0]} overflows a double`);
  }
  return statistics;
}

export const dataAnalysisService = defineService({
  name: "data-analysis",
  description: `Descriptive statistics of 1 to ${MAX_VALUES} numbers: count, sum, mean, median, min, max, population stddev.`,
  input: Input,
  output: Statistics,
  run: async ({ values }) => describeValues(values),
});
