import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app')!;
// The "Loading…" text in index.html is for before the script runs; the app replaces it.
root.textContent = '';
render(<App />, root);
