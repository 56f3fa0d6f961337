/**
 * TypeORM transformer for `bigint` columns holding amounts in minor units: pg returns
 * bigint as a string; every amount we store fits a JavaScript number.
 */
export const bigintAsNumber = { to: (value: number): number => value, from: (value: string | number): number => Number(value) };
