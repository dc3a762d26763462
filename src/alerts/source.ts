import type { HistoryApi } from '../history/history.js';
import type { SeriesPoint, SeriesQuery } from '../history/series.js';

/** What window functions read: the history's metric series (a seam for tests and other stores). */
export interface SeriesSource {
  /** True when the history records metric series. */
  recording(): boolean;
  /** True when the series of `metric` are recorded. */
  records(metric: string): boolean;
  series(query: SeriesQuery): Promise<readonly SeriesPoint[]>;
}

/** The history as a series source. */
export function seriesSource(history: HistoryApi): SeriesSource {
  return {
    recording: () => history.enabled && history.recordsSeries,
    records: (metric) => history.enabled && history.recordsMetric(metric),
    series: (query) => history.series(query),
  };
}
