import { useCallback, useReducer, useRef, type Reducer } from 'react';

/**
 * useReducer plus a getter for the state every dispatched action has produced so far. Keys can
 * arrive faster than React renders (a paste, key repeat over SSH: Ink hands one chunk over as
 * several keys in a row), so a key handler must decide on the state its earlier keys made, not
 * on the last rendered one. The reducer is pure, so running it here as well is safe.
 */
export function useSyncedReducer<S, A>(reducer: (state: S, action: A) => S, initial: S): [S, (action: A) => void, () => S] {
  const [state, dispatch] = useReducer(reducer as Reducer<S, A>, initial);
  const latest = useRef(initial);
  const send = useCallback(
    (action: A) => {
      latest.current = reducer(latest.current, action);
      dispatch(action);
    },
    [reducer],
  );
  const current = useCallback(() => latest.current, []);
  return [state, send, current];
}
