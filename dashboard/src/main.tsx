// The dashboard's entry: renders the app into #app (index.html loads this module and main.css).
import { render } from 'preact';
import { App } from './components/app.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
