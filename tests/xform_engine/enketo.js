// The browser side of tests/test_openrosa_enketo.py: enketo-core (the form engine Enketo
// runs in the browser) for a test page, as `window.enketo`. `make test` bundles this file
// with esbuild into node_modules/.bundle/enketo-core.js (see the Makefile).
//
// Besides enketo-core's Form and its file manager, it does the two things an Enketo web
// client does around the engine: it turns a form's CSV media file into the XML of an
// external instance (<root><item><name>…</name>…</item></root>, a child element per
// column), and it posts a filled record the OpenRosa way (multipart with
// xml_submission_file and each file under its own name), showing the server's answer.
import { Form } from 'enketo-core';
import fileManager from 'enketo-core/src/js/file-manager';

// The rows of a CSV text (RFC 4180: quoted fields may hold commas, quotes and newlines).
function csvRows(text) {
    const rows = [];
    let row = [];
    let field = '';
    let quoted = false;
    const source = text.replace(/^\uFEFF/, '');
    for (let i = 0; i < source.length; i += 1) {
        const ch = source[i];
        if (quoted) {
            if (ch === '"' && source[i + 1] === '"') {
                field += '"';
                i += 1;
            } else if (ch === '"') {
                quoted = false;
            } else {
                field += ch;
            }
        } else if (ch === '"') {
            quoted = true;
        } else if (ch === ',') {
            row.push(field);
            field = '';
        } else if (ch === '\n' || ch === '\r') {
            if (ch === '\r' && source[i + 1] === '\n') i += 1;
            row.push(field);
            rows.push(row);
            row = [];
            field = '';
        } else {
            field += ch;
        }
    }
    if (field !== '' || row.length) {
        row.push(field);
        rows.push(row);
    }
    return rows.filter((r) => r.length > 1 || r[0] !== '');
}

// A CSV media file as the XMLDocument of an external instance: the header names the
// elements of each <item>.
function csvToXml(text) {
    const [header, ...rows] = csvRows(text);
    const doc = document.implementation.createDocument(null, 'root', null);
    for (const row of rows) {
        const item = doc.createElement('item');
        header.forEach((column, index) => {
            const cell = doc.createElement(column.trim());
            cell.textContent = row[index] ?? '';
            item.appendChild(cell);
        });
        doc.documentElement.appendChild(item);
    }
    return doc;
}

// What Enketo keeps of a filled form once enketo-core's own validation passes: the
// record's XML and its files (null if the form is not valid; the invalid questions are
// marked in the form).
async function record(form) {
    if (!(await form.validate())) return null;
    return { xml: form.getDataStr(), files: fileManager.getCurrentFiles() };
}

const RESPONSE_NS = 'http://openrosa.org/http/response';

// Post a record to an OpenRosa submission URL as Enketo does (multipart, the XML as
// xml_submission_file, each file under its own name) and show the server's message to
// the user in the page's #feedback. Resolves to {status, message}.
async function post(submissionUrl, { xml, files }) {
    const body = new FormData();
    body.append(
        'xml_submission_file',
        new Blob([xml], { type: 'text/xml' }),
        'xml_submission_file'
    );
    for (const file of files) body.append(file.name, file, file.name);
    const answer = await fetch(submissionUrl, {
        method: 'POST',
        headers: { 'X-OpenRosa-Version': '1.0' },
        body,
    });
    const text = await answer.text();
    const doc = new DOMParser().parseFromString(text, 'text/xml');
    const node = doc.getElementsByTagNameNS(RESPONSE_NS, 'message')[0];
    const message = node ? node.textContent : text;
    const feedback = document.getElementById('feedback');
    if (feedback) {
        feedback.textContent = message;
        feedback.className = answer.status === 201 ? 'sent' : 'refused';
    }
    return { status: answer.status, message };
}

window.enketo = { Form, fileManager, csvToXml, record, post };
