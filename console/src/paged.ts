import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from './api.js';
import { asApiError } from './hooks.js';
import type { Page } from './types.js';

/**
 * A cursor-paginated list (the Management API's { data, next_cursor }): the first page when `path`
 * changes, then more with `more()`. `path` holds the query (filters, search) without the cursor.
 */
export function usePaged<T>(path: string) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | undefined>();
  const [tick, setTick] = useState(0);
  const generation = useRef(0);

  const fetchPage = async (cursor: string | null, append: boolean) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const sep = path.includes('?') ? '&' : '?';
      const page = await api.get<Page<T>>(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
      if (mine !== generation.current) return;
      setItems((before) => (append ? [...before, ...page.data] : page.data));
      setNext(page.next_cursor);
    } catch (err) {
      if (mine === generation.current) setError(asApiError(err));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    void fetchPage(null, false);
  }, [path, tick]);

  return {
    items,
    next,
    loading,
    error,
    more: () => fetchPage(next, true),
    reload: () => setTick((t) => t + 1),
    /** Changes one item in place after an action, without reloading the list. */
    replace: (pred: (item: T) => boolean, item: T | undefined) =>
      setItems((before) => (item ? before.map((x) => (pred(x) ? item : x)) : before.filter((x) => !pred(x)))),
  };
}
