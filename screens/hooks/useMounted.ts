import { useEffect, useRef, type RefObject } from 'react';

/**
 * True while the component is mounted: an answer from the engine that arrives after the screen
 * went away (the console closing) must not be dispatched.
 */
export function useMounted(): RefObject<boolean> {
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return mounted;
}
