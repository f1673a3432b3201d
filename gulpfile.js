const path = require('path');
const { finished } = require('stream/promises');
const { task, src, dest } = require('gulp');

// tsc only emits .js: the icons, the codex file (*.node.json) and the output schemas (__schema__/, which
// n8n serves to its editor) must sit next to them in dist/.
task('build:static', copyStaticFiles);

async function copyStaticFiles() {
	await Promise.all([
		copy(path.resolve('nodes', '**', '*.{png,svg,node.json}'), path.resolve('dist', 'nodes')),
		copy(path.resolve('nodes', '**', '__schema__', '**', '*.json'), path.resolve('dist', 'nodes')),
		copy(path.resolve('credentials', '**', '*.{png,svg}'), path.resolve('dist', 'credentials')),
	]);
}

function copy(glob, destination) {
	return finished(src(glob, { encoding: false }).pipe(dest(destination)));
}
