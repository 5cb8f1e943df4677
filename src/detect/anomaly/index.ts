export { defaultEwmaOptions, detectEwma, scanEwma, type EwmaOptions } from './ewma-detector.js';
export { defaultMadOptions, detectMad, scanMad, type MadOptions } from './mad-detector.js';
export { median, medianAbsoluteDeviation, standardDeviation } from './robust-statistics.js';
export { cleanSeries, type AnomalyVerdict, type Direction, type Point, type Series } from './series.js';
export { defaultTrendOptions, trendCrossing, type TrendCrossing, type TrendOptions } from './trend.js';
