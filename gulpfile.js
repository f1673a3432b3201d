const path = require('path');
const { task, src, dest } = require('gulp');

// tsc only emits .js: the icons and the codex file (*.node.json) must sit next to them in dist/.
task('build:icons', copyStaticFiles);

function copyStaticFiles() {
	const nodeSource = path.resolve('nodes', '**', '*.{png,svg,node.json}');
	const nodeDestination = path.resolve('dist', 'nodes');
	src(nodeSource, { encoding: false }).pipe(dest(nodeDestination));

	const credSource = path.resolve('credentials', '**', '*.{png,svg}');
	const credDestination = path.resolve('dist', 'credentials');
	return src(credSource, { encoding: false }).pipe(dest(credDestination));
}
