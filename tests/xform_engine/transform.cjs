// Runs enketo-transformer (Enketo's XForm → HTML form and model, a real XForm engine) on
// each XForm file named on the command line and prints one JSON object: the
// transformer's version and, per file, the model and form it made or the error it met.
// Installed by `make test` (npm ci from package-lock.json); see tests/test_openrosa_forms.py.
const fs = require('node:fs');
const { transform, version } = require('enketo-transformer');

async function main() {
    const results = {};
    for (const path of process.argv.slice(2)) {
        try {
            const out = await transform({ xform: fs.readFileSync(path, 'utf8'), media: {} });
            results[path] = { model: out.model, form: out.form };
        } catch (error) {
            results[path] = { error: String((error && error.stack) || error) };
        }
    }
    process.stdout.write(JSON.stringify({ version, results }));
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
