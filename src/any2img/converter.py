"""The converter contract shared by every representation.

A converter turns one raw signal of its *kind* (audio, time series, mouse log,
image) into RGB pictures. It is a small scikit-learn style class:

* keyword-only parameters, each declared once (type, default, rule, doc; see
  :mod:`any2img.parameters`), checked at construction and handed to the code
  as a frozen typed object; ``get_params()`` round-trips through JSON;
* ``read(path)`` returns the raw signal of its kind (shared per kind);
* ``read_records(path)`` yields the labelled records of a file (one for most
  files, one per row for a table of series);
* ``segment(signal)`` returns the :class:`Window` objects one signal yields;
* ``convert(window)`` returns an ``(H, W, 3)`` uint8 array, deterministic for
  the same input and parameters;
* ``convert_batch(windows)`` does the same for many windows, vectorised where
  that is faster;
* ``relevance(attribution, window)`` maps an attribution over the pixels of
  a window's image back to the signal's own coordinates (see
  :mod:`any2img.relevance`), for explanations;
* ``parts(window)`` says how to remove parts of a window's raw input (time
  steps, frames, events; see :mod:`any2img.removal`), for explanations by
  occlusion in the signal's own domain.

Nothing here knows of torch: converters stay importable without it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from any2img.errors import InputError, ParameterError
from any2img.parameters import ConverterParams, Declaration, Float, Range, Rule, declarations, docstring_section
from any2img.relevance import PixelRelevance, Relevance, check_attribution
from any2img.removal import SignalParts

__all__ = ["KINDS", "Converter", "Record", "Window"]

#: The kinds of raw input a converter can take.
KINDS = ("audio", "timeseries", "mouse", "image")


@dataclass(frozen=True)
class Window:
    """One piece of a signal that becomes one image.

    Attributes
    ----------
    data : object
        The piece itself, of the converter's signal type.
    index : int
        Position of the window in its signal, from 0.
    start, stop : float
        Where the window sits in the signal, in ``unit``.
    unit : str
        ``"samples"``, ``"seconds"``, ``"events"`` or ``"timestamps"``.
    """

    data: Any
    index: int = 0
    start: float = 0.0
    stop: float = 0.0
    unit: str = "timestamps"

    def describe(self) -> dict[str, Any]:
        """Return the JSON-able position of the window (no data)."""
        return {"index": self.index, "start": self.start, "stop": self.stop, "unit": self.unit}


@dataclass(frozen=True)
class Record:
    """One signal read from a source, with what the source says about it.

    Attributes
    ----------
    signal : object
        The raw signal of the converter's kind.
    key : str
        Identifies the record inside its source (``""`` for a one-record file,
        ``"row3"`` for the fourth row of a table).
    label : str or None
        The label the source itself carries (a label column), if any.
    meta : dict
        Anything else worth recording in the manifest.
    """

    signal: Any
    key: str = ""
    label: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Converter:
    """Base class of every converter.

    Subclasses set the class attributes ``name``, ``kind`` and ``extensions``
    and implement :meth:`read` and :meth:`convert`. Their parameters are
    declared once, as the fields of a :class:`~any2img.parameters.ConverterParams`
    dataclass named in ``params_class``: this base then takes them as
    keyword arguments, stores each under its own name, checks them all at
    construction (a bad value raises :class:`ParameterError` there) and
    hands the checked values to the code as a frozen, typed object
    (:meth:`checked_params`). :meth:`set_params` stores values untouched;
    they are checked where next used.

    A converter may instead write its own ``__init__`` with keyword-only
    parameters stored under their names, and check them in
    :meth:`_check_params` (the protocol before declarations; third-party
    plugins written that way keep working).
    """

    #: Registry name, e.g. ``"gadf"``.
    name: ClassVar[str] = ""
    #: One of :data:`KINDS`.
    kind: ClassVar[str] = ""
    #: File suffixes (lower case, with the dot) that :meth:`read` accepts.
    extensions: ClassVar[tuple[str, ...]] = ()
    #: The declared parameters (``None``: the class writes its own ``__init__``).
    params_class: ClassVar[type[ConverterParams] | None] = None
    #: Whether training on this family's pictures perturbs the raw signals by default (``augment="auto"``):
    #: only where :meth:`augment_signal` was measured to win on the validation protocol.
    augments_by_default: ClassVar[bool] = False
    #: Where the family's signal-domain augmentation lives, ``"module:function"`` (None: it has none). The
    #: function takes ``(signal, rng, **options)``; its keyword-only parameters are the options and its
    #: module's ``OPTION_RULES`` their rules. Imported at first use: a family's augmentation module imports
    #: the family's package, which defines the class naming it.
    augmentation: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.params_class is not None and cls.__init__ is Converter.__init__:
            decls = declarations(cls.params_class)
            cls.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [inspect.Parameter(d.name, inspect.Parameter.KEYWORD_ONLY, default=d.default) for d in decls])
            if cls.__doc__ and "\nParameters\n" not in cls.__doc__:
                cls.__doc__ = _with_parameters(cls.__doc__, docstring_section(cls.params_class))
        elif getattr(cls, "__signature__", None) is not None:
            cls.__signature__ = None  # type: ignore[attr-defined]  # its own __init__, not a declared base's, is it

    def __init__(self, **params: Any) -> None:
        if self.params_class is None:  # a converter without parameters (as before declarations)
            self._refuse_unknown(params, [])
            return
        defaults = self.param_defaults()
        self._refuse_unknown(params, list(defaults))
        for key, default in defaults.items():
            setattr(self, key, params.get(key, default))
        self.checked_params()

    # -- parameters -------------------------------------------------------
    @classmethod
    def _declared(cls) -> bool:
        return cls.params_class is not None and cls.__init__ is Converter.__init__

    @classmethod
    def _param_names(cls) -> list[str]:
        return list(cls.param_defaults())

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Return the parameters and their defaults (from the declarations, else from ``__init__``)."""
        if cls._declared():
            assert cls.params_class is not None
            return {d.name: d.default for d in declarations(cls.params_class)}
        sig = inspect.signature(cls.__init__)
        return {
            p.name: p.default
            for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    #: The parameters :meth:`params_from_sources` may set (none here).
    source_params: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def params_from_sources(cls, sources: Sequence[os.PathLike[str]]) -> dict[str, Any]:
        """Defaults that follow from the files a batch conversion reads (none here; a family may add some).

        :func:`~any2img.batch.convert_dir` (and ``any2img convert``) asks
        for them when it builds the converter from a name and the caller
        left one of :attr:`source_params` out; the parameters the caller gave
        win, a destination converted before keeps the values it recorded
        (a resumed run does not change them), and a configured converter
        object is used as it is.

        Parameters
        ----------
        sources : sequence of path-like
            The files to convert, sorted.

        Returns
        -------
        dict
            Parameter names to values; ``{}`` where the class defaults stand.
        """
        return {}

    @classmethod
    def param_declarations(cls) -> list[Declaration]:
        """The declared parameters (rule and doc included); empty for a class with its own ``__init__``."""
        return declarations(cls.params_class) if cls._declared() and cls.params_class is not None else []

    def get_params(self) -> dict[str, Any]:
        """Return the parameters as given to ``__init__``.

        The result is JSON-serialisable and ``type(self)(**params)`` rebuilds
        an equal converter (tuples come back from JSON as lists; converters
        accept both).
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Converter:
        """Set parameters by name and return ``self``; the values are checked where next used."""
        self._refuse_unknown(params, self._param_names())
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _refuse_unknown(self, params: dict[str, Any], valid: list[str]) -> None:
        for key in params:
            if key not in valid:
                raise ParameterError(
                    f"'{key}' is not a parameter of converter '{self.name}'; "
                    f"valid parameters: {', '.join(valid) or '(none)'}."
                )

    def checked_params(self) -> ConverterParams:
        """The parameters checked, as a frozen :attr:`params_class` object (kept until one changes).

        Raises
        ------
        ParameterError
            The first parameter (in declaration order) whose value breaks its rule.
        """
        checked = self.__dict__.get("_checked")
        if checked is None:
            if not self._declared() or self.params_class is None:
                raise TypeError(self._undeclared_message())
            checked = self.params_class(**self.get_params())
            self.__dict__["_checked"] = checked
        return checked

    def _undeclared_message(self) -> str:
        name = type(self).__name__
        if self.params_class is None:
            return f"{name} declares no params_class; use _check_params()."
        return (f"{name} writes its own __init__, so its parameters are not the declared ones of "
                f"{self.params_class.__name__}; declare new parameters in a subclass of {self.params_class.__name__} "
                "named in params_class (see any2img.parameters) instead of overriding __init__.")

    def check_params(self) -> None:
        """Check every parameter; raise :class:`ParameterError` on the first bad one.

        Declared converters check their declarations; a converter with its
        own ``__init__`` overrides :meth:`_check_params`.
        """
        self._check_params()

    def _check_params(self) -> Any:
        return self.checked_params() if self._declared() else self.get_params()

    def __setattr__(self, key: str, value: Any) -> None:
        super().__setattr__(key, value)
        self.__dict__.pop("_checked", None)  # a parameter may have changed: check again where used

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_checked", None)
        return state

    def to_json(self) -> str:
        """Return ``{"name": ..., "params": {...}}`` as a JSON string."""
        return json.dumps({"name": self.name, "params": self.get_params()}, sort_keys=True)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Converter)
        return json.loads(self.to_json()) == json.loads(other.to_json())

    __hash__ = None  # type: ignore[assignment]  # mutable, like scikit-learn estimators

    # -- examples for the contract tests ----------------------------------
    @classmethod
    def example_signal(cls, rng: np.random.Generator | int | None = None) -> Any:
        """Return a small synthetic input of this converter's kind.

        ``tests/test_contract.py`` converts it to check every converter the
        same way (shape, dtype, determinism, parameters). Every converter
        should override this; ``rng`` (a Generator or a seed) makes it vary.
        """
        raise NotImplementedError(
            f"converter class {cls.__name__} does not provide example_signal(rng); "
            "override it so the contract tests can exercise the converter."
        )

    @classmethod
    def example_bad_signals(cls, rng: np.random.Generator | int | None = None) -> list[Any]:
        """Return inputs that :meth:`convert` must reject with :class:`InputError`.

        The default derives them from :meth:`example_signal` when it is an
        array: the array emptied along its first and its last axis, and, for
        a float array, a copy holding a NaN. Override to add kind-specific
        cases.
        """
        example = cls.example_signal(rng)
        if not isinstance(example, np.ndarray) or example.ndim == 0:
            return []
        bad: list[Any] = [example[:0]]
        if example.ndim > 1:
            bad.append(example[..., :0])
        if np.issubdtype(example.dtype, np.floating) and example.size:
            with_nan = example.copy()
            with_nan.flat[example.size // 2] = np.nan
            bad.append(with_nan)
        return bad

    # -- reading and segmenting ------------------------------------------
    def accepts(self, path: str | os.PathLike[str]) -> bool:
        """Return True if :meth:`read` takes files with this suffix."""
        return Path(path).suffix.lower() in self.extensions

    def read(self, path: str | os.PathLike[str]) -> Any:
        """Read the raw signal of this converter's kind from ``path``."""
        raise NotImplementedError

    def read_records(self, path: str | os.PathLike[str]) -> Iterator[Record]:
        """Yield the records of a source file (one, unless it is a table)."""
        yield Record(self.read(path))

    def segment(self, signal: Any) -> list[Window]:
        """Split a signal into the windows that become images.

        The default is one window holding the whole signal.
        """
        return [Window(signal, 0, 0.0, float(_length(signal)), "timestamps")]

    # -- augmenting --------------------------------------------------------
    def augment_signal(self, signal: Any, rng: np.random.Generator, **options: Any) -> Any:
        """A randomly perturbed copy of a raw signal (a record's), for training.

        Augmentation happens here, on the signal, because pixel flips and
        crops lie for a spectrogram or a Gramian field. Each family defines
        perturbations under which a label survives (:attr:`augmentation`);
        the base has none. ``options`` are the family's
        (:meth:`augment_options` names them with their defaults), e.g.
        ``speed=0.2`` for audio.

        Raises
        ------
        ParameterError
            This converter has no signal-domain augmentation.
        """
        augment, _ = self._augmentation()
        if augment is None:
            raise ParameterError(f"converter '{self.name}' has no signal-domain augmentation.")
        return augment(signal, rng, **options)

    def augment_options(self) -> dict[str, Any]:
        """The keyword options of :meth:`augment_signal`, each with its default (empty: none)."""
        augment, _ = self._augmentation()
        if augment is None:
            return {}
        return {name: p.default for name, p in inspect.signature(augment).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty}

    def augment_rules(self) -> dict[str, Rule]:
        """The rule of each option of :meth:`augment_signal` (e.g. ``speed``: a number in [0, 1))."""
        return dict(self._augmentation()[1])

    def _augmentation(self) -> tuple[Callable[..., Any] | None, dict[str, Rule]]:
        """The family's augmentation function and its options' rules (:attr:`augmentation`), or (None, {})."""
        if self.augmentation is None:
            return None, {}
        module_name, _, function = self.augmentation.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, function), module.OPTION_RULES

    def check_augment_options(self, options: dict[str, Any] | None) -> dict[str, Any]:
        """``options`` checked against :meth:`augment_options` and :meth:`augment_rules`.

        Each value must meet its option's rule; numbers come back as floats, a
        pair (``snr_db``) as a tuple of two floats, from a sequence or a
        ``"low,high"`` string.

        Raises
        ------
        ParameterError
            An unknown name (the message lists the known ones) or a value
            outside its rule (the message names ``augment_options.NAME``
            and the rule).
        """
        known, rules = self.augment_options(), self.augment_rules()
        checked: dict[str, Any] = {}
        for name, value in (options or {}).items():
            if name not in known:
                raise ParameterError(
                    f"augment_options: {name!r} is not an option of the signal augmentation of converter "
                    f"'{self.name}' (it takes {', '.join(known) if known else 'none'}).")
            pair = isinstance(known[name], tuple)
            if pair and isinstance(value, str):  # "low,high", as the CLI passes it
                value = [_number(part) for part in value.split(",")]
            rule = rules.get(name) or (Range() if pair else Float())
            checked[name] = rule.check(f"augment_options.{name}", value, None)
        return checked

    # -- converting -------------------------------------------------------
    def convert(self, window: Any) -> np.ndarray:
        """Return the image of one window as an ``(H, W, 3)`` uint8 array.

        ``window`` may be a :class:`Window` or its data.
        """
        raise NotImplementedError

    def convert_batch(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """Convert many windows; subclasses vectorise where it is faster."""
        return [self.convert(w) for w in windows]

    def transform(self, signal: Any) -> list[np.ndarray]:
        """Segment a signal and convert every window, in order."""
        return self.convert_batch(self.segment(signal))

    # -- explaining -------------------------------------------------------
    def relevance(self, attribution: np.ndarray, window: Any) -> Relevance:
        """Map an attribution over the pixels of ``window``'s image back onto the signal.

        Parameters
        ----------
        attribution : ndarray of shape (H, W)
            A score per pixel of the image :meth:`convert` draws of
            ``window`` (Grad-CAM, occlusion, ...), at that image's size.
        window : Window or its data
            The window the image was drawn from (a :class:`Window` carries
            its position in a long signal, which the result keeps).

        Returns
        -------
        Relevance
            One of the containers of :mod:`any2img.relevance`, in the
            signal's own coordinates: :class:`~any2img.relevance.SpectrogramRelevance`
            (seconds x Hz) for audio, :class:`~any2img.relevance.SeriesRelevance`
            (time steps of the original series) for time series,
            :class:`~any2img.relevance.EventRelevance` (events) for mouse logs.
            This base returns :class:`~any2img.relevance.PixelRelevance`, the
            attribution itself: the right answer when the picture is the
            signal, and a fallback for a converter that does not say how its
            pixels relate to its input (override it to say so).

        Raises
        ------
        InputError
            The attribution is not a finite ``(H, W)`` array.
        """
        return PixelRelevance(check_attribution(attribution))

    def parts(self, window: Any) -> SignalParts:
        """The removable parts of ``window``'s raw input, for occlusion in the signal's domain.

        Parameters
        ----------
        window : Window or its data
            One window, as :meth:`segment` gives.

        Returns
        -------
        SignalParts
            How many parts the window has, how to remove any of them (a new
            window :meth:`convert` draws again) and how to wrap a score per
            part in the signal's coordinates: time steps of a series
            (interpolated over), frames of a recording (silenced), events of
            a mouse path (dropped). See :mod:`any2img.removal`.

        Raises
        ------
        ParameterError
            This converter does not say how to remove parts of its input
            (the base; pictures are occluded on the image instead).
        """
        raise ParameterError(f"converter '{self.name}' does not say how to remove parts of its input, so it has "
                             "no occlusion in the signal's domain; use method='occlusion' (on the picture).")


def _with_parameters(doc: str, section: str) -> str:
    """``doc`` (cleaned) with ``section`` put before its Notes / Examples / See Also, or at its end."""
    text = inspect.cleandoc(doc)
    headings = ("See Also\n--------", "Notes\n-----", "Examples\n--------")
    found = [at for h in headings if (at := text.find("\n" + h)) >= 0]
    if found:
        at = min(found)
        return f"{text[:at].rstrip()}\n\n{section}\n{text[at:]}"
    return f"{text}\n\n{section}\n"


def _length(signal: Any) -> int:
    try:
        return int(np.shape(signal)[-1])
    except (IndexError, TypeError, ValueError):  # ragged nested lists too
        return 0


def unwrap(window: Any) -> Any:
    """Return the data of a :class:`Window`, or ``window`` itself."""
    return window.data if isinstance(window, Window) else window


def check_rgb(image: np.ndarray, *, source: str = "converter") -> np.ndarray:
    """Check the output contract: ``(H, W, 3)`` uint8. Return the image."""
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8):
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise InputError(f"{source} must return an (H, W, 3) uint8 array (got shape {shape}, dtype {dtype}).")
    return image


def _number(text: str) -> float | str:
    """``text`` as a float where it reads as one (else as it is, for the rule to reject by name)."""
    try:
        return float(text)
    except ValueError:
        return text
