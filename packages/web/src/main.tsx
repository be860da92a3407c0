import { render } from 'preact';
import { App } from './app.js';
import './styles.css';
import './graph.css';

render(<App />, document.getElementById('app') as HTMLElement);
