// The dashboard's entry: renders the app into #app (index.html loads this module and main.css).
import { render } from 'preact';
import { App } from './components/app.js';
import './styles.css';

const root = document.getElementById('app')!;
// index.html's "Loading the dashboard…" is for the moment before this module runs: Preact's render
// keeps what it does not own, so it is cleared first.
root.replaceChildren();
render(<App />, root);
