import { useEffect } from 'preact/hooks';

/** Each page names itself in the tab and history ("Users · Gatehouse console"), not only in its heading. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Gatehouse console`;
  }, [title]);
}
