"use strict";
/* The page: a drawing canvas with the app's brush, the noise controls, clean | noisy | reconstruction, the model's
 * description, and window.denoiseStudio for scripts.  Uses prepare.js, noise.js and network.js.
 *
 * One state object (`state`) says what is shown; every control changes it and asks for a redraw; the redraw
 * recomputes clean -> noisy -> reconstruction once per animation frame and paints the views.  Text from the model
 * file is only ever set as textContent (never parsed as HTML). */

const UNDO_DEPTH = 30;
const REDRAW_LOG = 500;

/* ----- small helpers ------------------------------------------------------------------------------------------- */
function byId(id) {
  return document.getElementById(id);
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fillList(list, rows) {
  list.replaceChildren();
  for (const [label, value] of rows) {
    list.append(element("dt", label), element("dd", value));
  }
}

function grey(values) {
  const image = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  return image;
}

const ACTIVATION_NAMES = { linear: "Linear", relu: "ReLU", leaky_relu: "LeakyReLU", sigmoid: "Sigmoid", tanh: "Tanh" };
const SKIP_NAMES = { gate: "Gated skip", residual: "Residual skip" };

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(bytes < 1e5 ? 2 : 1)} MB`;
}

/* ----- the drawing surface ------------------------------------------------------------------------------------- */
/** The canvas the user draws on (side × side pixels, white ink on black, shown scaled by CSS), with undo, the
 * eraser, and what the app keeps beside it: the drawing before the eraser touched it (`undamaged`, what frames the
 * digit), whether it holds a loaded image (`framed`), and which test image it shows (`source`). */
class Drawing {
  constructor(canvas, brush, onChange) {
    this.canvas = canvas;
    this.side = brush.side;
    canvas.width = canvas.height = this.side;
    this.context = canvas.getContext("2d", { willReadFrequently: true });
    this.width = brush.width;
    this.erasing = false; // the Eraser tool
    this.undamaged = null; // a canvas: the drawing before the eraser touched it
    this.framed = false;
    this.source = null; // a test image's index while the canvas shows it untouched
    this.history = [];
    this.stroke = null; // {pointerId, erases, last}
    this.onChange = onChange;
    this.blank(this.context);
  }

  blank(context) {
    context.fillStyle = "#000";
    context.fillRect(0, 0, this.side, this.side);
  }

  pixels() {
    return this.context.getImageData(0, 0, this.side, this.side);
  }

  framePixels() {
    return this.undamaged ? this.undamaged.getContext("2d").getImageData(0, 0, this.side, this.side) : null;
  }

  isEmpty() {
    const data = this.pixels().data;
    for (let i = 0; i < data.length; i += 4) if (data[i]) return false;
    return true;
  }

  remember() {
    this.history.push({ image: this.pixels(), undamaged: this.framePixels(), framed: this.framed, source: this.source });
    if (this.history.length > UNDO_DEPTH) this.history.shift();
  }

  undo() {
    const last = this.history.pop();
    if (!last) return;
    this.context.putImageData(last.image, 0, 0);
    this.undamaged = last.undamaged ? this.canvasOf(last.undamaged) : null;
    this.framed = last.framed;
    this.source = last.source;
    this.onChange();
  }

  clear() {
    if (!this.isEmpty() || this.source !== null) this.remember();
    this.blank(this.context);
    this.undamaged = null;
    this.framed = false;
    this.source = null;
    this.onChange();
  }

  /** Show a 28×28 image (uint8 pixels) scaled smoothly onto the canvas, as the app's load_image does. */
  load(pixels, source) {
    this.remember();
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const image = new ImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = pixels[i];
      image.data[4 * i + 3] = 255;
    }
    small.getContext("2d").putImageData(image, 0, 0);
    this.blank(this.context);
    this.context.imageSmoothingEnabled = true;
    this.context.imageSmoothingQuality = "high";
    this.context.drawImage(small, 0, 0, this.side, this.side);
    this.undamaged = null;
    this.framed = true;
    this.source = source;
    this.onChange();
  }

  canvasOf(imageData) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = this.side;
    canvas.getContext("2d").putImageData(imageData, 0, 0);
    return canvas;
  }

  /** A pointer event's position in canvas pixels. */
  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) * this.side) / rect.width, ((event.clientY - rect.top) * this.side) / rect.height];
  }

  start(event) {
    // the left button, a finger or a pen's tip draw (erase with the Eraser on); the right button and a pen's
    // eraser end always erase
    const penEraser = event.button === 5 || (event.buttons & 32) !== 0;
    if (event.button !== 0 && event.button !== 2 && !penEraser) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    const erases = this.erasing || event.button === 2 || penEraser;
    this.remember();
    if (erases && !this.undamaged) this.undamaged = this.canvasOf(this.pixels());
    this.source = null; // drawn over or erased: now a drawing
    this.stroke = { pointerId: event.pointerId, erases, last: null };
    this.paintTo(this.point(event));
  }

  move(event) {
    if (!this.stroke || event.pointerId !== this.stroke.pointerId) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) this.paintTo(this.point(each));
  }

  end(event) {
    if (this.stroke && event.pointerId === this.stroke.pointerId) this.stroke = null;
  }

  /** Ink (or erase) from the stroke's last point to `to`: a round, anti-aliased pen of the brush's width; a stroke
   * drawn after erasing also goes onto the undamaged drawing, so it frames the digit too. */
  paintTo(to) {
    const { erases, last } = this.stroke;
    const targets = [this.context];
    if (!erases && this.undamaged) targets.push(this.undamaged.getContext("2d"));
    for (const context of targets) {
      context.fillStyle = context.strokeStyle = erases ? "#000" : "#fff";
      context.lineWidth = this.width;
      context.lineCap = context.lineJoin = "round";
      context.beginPath();
      if (last === null) {
        context.arc(to[0], to[1], this.width / 2, 0, 2 * Math.PI);
        context.fill();
      } else {
        context.moveTo(last[0], last[1]);
        context.lineTo(to[0], to[1]);
        context.stroke();
      }
    }
    this.stroke.last = to;
    this.onChange();
  }
}

/* ----- the page ------------------------------------------------------------------------------------------------ */
function startPage() {
  const model = JSON.parse(byId("ds-model").textContent);
  const weightsNode = byId("ds-weights");
  const weights = floatsOf(bytesOfBase64(weightsNode.textContent), model.precision);
  const network = buildNetwork(model.layers, weights, model.skip);
  weightsNode.remove(); // its text is 1.3× the weights; the Float32Array is all that is needed now
  const tests = model.test_images;
  const testPixels = tests ? bytesOfBase64(tests.pixels) : new Uint8Array(0);
  const testCount = tests ? tests.count : 0;
  const classes = model.data_set.classes;

  const state = {
    kind: model.noise.kind,
    level: model.noise.level,
    seed: 1,
    pattern: null,
    shown: null, // {clean, noisy, reconstruction, mse}
  };
  const timings = { opened: null, redraws: [] };

  const drawing = new Drawing(byId("canvas"), model.brush, requestRedraw);
  let pending = false;

  function requestRedraw() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(redraw);
    }
  }

  function testImage(index) {
    return testPixels.subarray(index * 784, (index + 1) * 784);
  }

  function cleanInput() {
    if (drawing.source !== null) return Float32Array.from(testImage(drawing.source), (v) => v / 255);
    const ink = inkOf(drawing.pixels());
    if (drawing.framed) return shrinkFramed(ink);
    const frame = drawing.framePixels();
    return prepareDigit(ink, frame ? inkOf(frame) : null);
  }

  function redraw() {
    pending = false;
    const started = performance.now();
    if (!state.pattern) state.pattern = new NoisePattern(state.kind, state.seed);
    const clean = cleanInput();
    const noisy = state.pattern.apply(clean, state.level);
    const reconstruction = network.predict(noisy);
    const blank = !clean.some((v) => v > 0);
    const mse = { noisy: meanSquaredError(noisy, clean), reconstruction: meanSquaredError(reconstruction, clean) };
    state.shown = { clean, noisy, reconstruction, mse, blank };
    paint();
    const done = performance.now();
    if (timings.opened === null) timings.opened = done;
    timings.redraws.push(done - started);
    if (timings.redraws.length > REDRAW_LOG) timings.redraws.shift();
  }

  function paint() {
    const { clean, noisy, reconstruction, mse, blank } = state.shown;
    byId("clean").getContext("2d").putImageData(grey(clean), 0, 0);
    byId("noisy").getContext("2d").putImageData(grey(noisy), 0, 0);
    byId("reconstruction").getContext("2d").putImageData(grey(reconstruction), 0, 0);
    const testShown = drawing.source !== null;
    byId("clean-caption").textContent = blank ? "empty: draw a digit" : testShown ? "test image" : "target";
    const level = NOISE_KINDS[state.kind].caption(state.level);
    byId("noisy-caption").textContent = blank ? level : `${level} · MSE ${mse.noisy.toFixed(4)}`;
    byId("reconstruction-caption").textContent = blank ? "from pure noise" : `MSE ${mse.reconstruction.toFixed(4)}`;
    byId("canvas-hint").hidden = !(drawing.source === null && !drawing.stroke && blank && !drawing.framed);
    byId("undo").disabled = drawing.history.length === 0;
    byId("eraser").setAttribute("aria-pressed", String(drawing.erasing));
    if (testCount) {
      byId("test-caption").textContent = testShown ? testCaption(drawing.source) : blank ? "Draw a digit, or see test images ◀ ▶" : "Your drawing";
    }
  }

  function testCaption(index) {
    const label = tests.labels ? tests.labels[index] : null;
    const title = label === null ? null : classes[label] !== undefined ? classes[label] : `class ${label}`;
    const what = title === null ? "" : model.data_set.name === "mnist" ? ` · digit ${title}` : ` · ${title}`;
    return `Test image ${index + 1} of ${testCount}${what}`;
  }

  let lastTest = 0;
  function showTest(step) {
    if (!testCount) return;
    const index = drawing.source === null ? lastTest : (drawing.source + step + testCount) % testCount;
    lastTest = index;
    drawing.load(testImage(index), index);
  }

  /* ----- controls ----- */
  const canvas = byId("canvas");
  canvas.addEventListener("pointerdown", (e) => drawing.start(e));
  canvas.addEventListener("pointermove", (e) => drawing.move(e));
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    canvas.addEventListener(type, (e) => {
      drawing.end(e);
      requestRedraw();
    });
  }
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  const brush = byId("brush");
  Object.assign(brush, { min: model.brush.min, max: model.brush.max, value: model.brush.width });
  const showBrush = () => {
    drawing.width = Number(brush.value);
    byId("brush-value").textContent = `${brush.value} px`;
  };
  brush.addEventListener("input", showBrush);
  showBrush();
  byId("clear").addEventListener("click", () => drawing.clear());
  byId("undo").addEventListener("click", () => drawing.undo());
  const toggleEraser = () => {
    drawing.erasing = !drawing.erasing;
    canvas.classList.toggle("erasing", drawing.erasing);
    requestRedraw();
  };
  byId("eraser").addEventListener("click", toggleEraser);
  byId("previous").addEventListener("click", () => showTest(-1));
  byId("next").addEventListener("click", () => showTest(1));

  const kindBox = byId("noise-kind");
  const levelSlider = byId("level");
  const showLevel = () => {
    byId("level-name").textContent = NOISE_KINDS[state.kind].level;
    byId("level-value").textContent = state.level.toFixed(2);
  };
  kindBox.value = state.kind;
  levelSlider.value = String(state.level);
  showLevel();
  kindBox.addEventListener("change", () => {
    state.kind = kindBox.value;
    state.pattern = null;
    showLevel();
    requestRedraw();
  });
  levelSlider.addEventListener("input", () => {
    state.level = Number(levelSlider.value);
    showLevel();
    requestRedraw();
  });
  const newNoise = () => {
    state.seed += 1;
    state.pattern = null;
    requestRedraw();
  };
  byId("new-noise").addEventListener("click", newNoise);

  document.addEventListener("keydown", (e) => {
    const inField = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
      e.preventDefault();
      drawing.undo();
    } else if (e.ctrlKey || e.metaKey || e.altKey || inField) {
      return;
    } else if (e.key === "e" || e.key === "E") {
      toggleEraser();
    } else if (e.key === "n" || e.key === "N") {
      newNoise();
    } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      showTest(e.key === "ArrowLeft" ? -1 : 1);
    }
  });

  /* ----- what the page says about the model ----- */
  byId("model-name").textContent = model.name.replace(/_/g, "_\u200b"); // long names break after underscores
  const widths = [model.layers[0].n_in, ...model.layers.map((l) => l.n_out)];
  const trained = model.noise.trained ? ` at ${model.noise.trained}` : "";
  const skip = model.skip;
  const skipWords = skip ? ` + ${(SKIP_NAMES[skip.type] || skip.type).toLowerCase()}` : "";
  byId("model-line").textContent =
    `${widths.join(" → ")}${skipWords} · ${model.n_params.toLocaleString("en-US")} parameters · trained on ` +
    `${model.data_set.title}${trained} · weights ${model.precision} (${megabytes(model.weights_bytes)})`;
  const body = document.querySelector("#layers tbody");
  model.layers.forEach((layer, i) => {
    const row = element("tr");
    const activation = ACTIVATION_NAMES[layer.activation] || layer.activation || "";
    const alpha = layer.alpha !== undefined ? ` (α ${layer.alpha})` : "";
    row.append(
      element("td", `${i + 1} · ${layer.type}`),
      element("td", `${layer.n_in} → ${layer.n_out}`),
      element("td", activation + alpha),
      element("td", layer.params.toLocaleString("en-US"), "number"),
    );
    body.append(row);
  });
  if (skip) {
    const n = model.layers.length;
    const row = element("tr");
    row.append(
      element("td", `${n + 1} · ${SKIP_NAMES[skip.type] || skip.type}`),
      element("td", skip.type === "gate" ? `${skip.n_in} → ${skip.n_out}` : `input + layer ${n}`),
      element("td", skip.type === "gate" ? ACTIVATION_NAMES.sigmoid : "clip to [0, 1]"),
      element("td", skip.params.toLocaleString("en-US"), "number"),
    );
    body.append(row);
    const note = byId("skip-note");
    note.textContent = skip.type === "gate"
      ? `The reconstruction is not layer ${n}'s image c alone: a gate g (0 to 1 for each pixel), computed from ` +
        `layer ${n}'s input h as g = sigmoid(W·h + b), mixes it with the noisy input x: ` +
        "reconstruction = c + g·(x − c). Where g is near 1 the input passes through as it is."
      : `The reconstruction is not layer ${n}'s output c alone: it is a correction added to the noisy input x, ` +
        "reconstruction = clip(x + c, 0, 1).";
    note.hidden = false;
  }
  byId("total-params").textContent = model.n_params.toLocaleString("en-US");
  fillList(byId("training"), model.training);
  fillList(byId("scores"), model.scores.length ? model.scores : [["Scores", "none recorded in the model file"]]);
  byId("attribution").textContent = model.data_set.attribution;
  byId("made-with").textContent =
    `Exported with Denoise Studio ${model.app_version} on ${model.exported}; weights stored as ${model.precision}.`;
  if (!testCount) {
    byId("test-nav").hidden = true;
    const note = byId("test-note");
    const where = model.data_set.env ? ` (${model.data_set.env} names its folder)` : "";
    note.textContent =
      `This page has no test images: the ${model.data_set.title} test set was not on the computer that ` +
      `exported it${where}. Draw your own digits on the canvas.`;
    note.hidden = false;
  }
  document.title = `${model.name} · Denoise Studio`;

  /* ----- for scripts: window.denoiseStudio ----- */
  const description = structuredClone(model);
  if (description.test_images) delete description.test_images.pixels;
  const frozen = (value) => {
    if (value && typeof value === "object") Object.values(value).forEach(frozen);
    return Object.freeze(value);
  };
  const checkedImage = (imageData, what) => {
    const ok = imageData && Number.isInteger(imageData.width) && Number.isInteger(imageData.height) &&
      imageData.data && imageData.data.length === 4 * imageData.width * imageData.height;
    if (!ok) throw new TypeError(`denoiseStudio.prepare: ${what} must be an ImageData (RGBA pixels, white ink on black)`);
    return inkOf(imageData);
  };
  window.denoiseStudio = Object.freeze({
    /** The model: its name, layers, training settings and scores (as the page shows them). */
    model: frozen(description),
    /** 784 numbers (a 28×28 image row by row, values in [0, 1]) -> Float32Array(784), the reconstruction. */
    predict(pixels) {
      if (!pixels || pixels.length !== network.nIn) {
        throw new TypeError(`denoiseStudio.predict takes ${network.nIn} numbers (a 28×28 image row by row, in [0, 1]); got ${pixels ? pixels.length : pixels}`);
      }
      const x = Float32Array.from(pixels);
      if (!x.every(Number.isFinite)) throw new RangeError("denoiseStudio.predict: the input holds NaN or infinite values");
      return network.predict(x);
    },
    /** A drawing (ImageData, white ink on black, any size) -> Float32Array(784), the network's 28×28 input as the app
     * prepares it; `frame`, optional, the drawing before erasing (what places it). */
    prepare(imageData, frame) {
      const ink = checkedImage(imageData, "the drawing");
      return prepareDigit(ink, frame ? checkedImage(frame, "the frame") : null);
    },
    /** What the page shows now: {clean, noisy, reconstruction} Float32Array(784) each, their MSE, the noise; null
     * until the first reconstruction. */
    current() {
      if (!state.shown) return null; // before the first redraw (the frame after the page loads)
      const { clean, noisy, reconstruction, mse } = state.shown;
      return {
        clean: clean.slice(), noisy: noisy.slice(), reconstruction: reconstruction.slice(),
        mse: { ...mse }, kind: state.kind, level: state.level,
      };
    },
    /** Milliseconds: `opened`, from navigation start to the first reconstruction shown; `redraws`, the last redraws'
     * (drawing -> 28×28 -> noise -> network -> painted). */
    timings() {
      return { opened: timings.opened, redraws: timings.redraws.slice() };
    },
  });

  if (testCount) showTest(0);
  else requestRedraw();
}

try {
  startPage();
} catch (error) {
  const heading = byId("model-name");
  heading.textContent = "This page's model could not be read";
  byId("model-line").textContent = String(error && error.message ? error.message : error);
  throw error;
}
