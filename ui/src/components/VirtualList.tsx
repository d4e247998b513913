// A list of fixed-height rows that renders only what is in view and fetches pages of
// rows as they scroll in: fast at 100,000 records.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { PageCache, pagesFor, visibleRange } from '../lib/virtual';

type Props<T> = {
  total: number;
  rowHeight: number;
  pageSize?: number;
  /** Changes when the rows change (search, module, an edit): the cache starts over. */
  version: string;
  fetchPage: (offset: number, limit: number) => Promise<T[]>;
  renderRow: (row: T | undefined, index: number) => ComponentChildren;
  label: string;
};

export function VirtualList<T>({ total, rowHeight, pageSize = 200, version, fetchPage, renderRow, label }: Props<T>) {
  const viewport = useRef<HTMLDivElement>(null);
  const cache = useMemo(() => new PageCache<T>(pageSize), [pageSize, version]);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const [, setLoaded] = useState(0);
  const loading = useRef(new Set<number>());

  useEffect(() => {
    loading.current.clear();
    if (viewport.current) viewport.current.scrollTop = 0;
    setScrollTop(0);
  }, [version]);

  useEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  const range = visibleRange(scrollTop, height, rowHeight, total);
  useEffect(() => {
    for (const page of cache.missing(pagesFor(range, pageSize))) {
      if (loading.current.has(page)) continue;
      loading.current.add(page);
      fetchPage(page * pageSize, pageSize)
        .then((rows) => {
          cache.put(page, rows);
          setLoaded((n) => n + 1);
        })
        .finally(() => loading.current.delete(page));
    }
  });

  const rows = [];
  for (let index = range.start; index < range.end; index += 1) {
    rows.push(
      <div
        key={index}
        class="vrow"
        role="listitem"
        aria-posinset={index + 1}
        aria-setsize={total}
        style={`top:${index * rowHeight}px;height:${rowHeight}px`}
      >
        {renderRow(cache.row(index), index)}
      </div>,
    );
  }
  return (
    <div
      class="vlist"
      ref={viewport}
      role="list"
      aria-label={label}
      tabIndex={0}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div style={`height:${total * rowHeight}px;position:relative`}>{rows}</div>
    </div>
  );
}
