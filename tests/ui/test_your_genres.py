"""The "Your genres" dialog (ui/your_genres.py) shows the LearnReport's figures."""

from __future__ import annotations

import math
from types import SimpleNamespace

from tagger.learning.classifiers import CandidateFigures
from tagger.learning.learned import GenreFigures, LearnReport, ReliabilityBin
from ui.your_genres import YourGenresDialog


def report(**changes) -> LearnReport:
    figures = {
        "files": 57,
        "genres": [GenreFigures("Soundtrack A", 20, 0.9, 0.85), GenreFigures("Soundtrack B", 15, 0.625, None),
                   GenreFigures("Chiptune", 12, None, 0.5)],
        "thin": {"Polka": 2, "Dub": 1}, "junk": {"Unknown": 5, "": 1},
        "top1": 0.8235, "top3": 0.9706, "expected_calibration_error": 0.0312,
        "reliability": [ReliabilityBin(0.4, 0.5, 6, 0.46, 0.5), ReliabilityBin(0.9, 1.0, 30, 0.95, 0.9333)],
        "confusions": [("Soundtrack B", "Soundtrack A", 3), ("Chiptune", "Soundtrack B", 1)],
        "temperature": 1.42, "folds": 5, "seconds": 2.5, "tested": 34, "model": "shrinkage LDA (shrinkage 0.5)",
        "candidates": [CandidateFigures("shrinkage LDA (shrinkage 0.5)", 0.8235, 0.9706, 0.512),
                       CandidateFigures("nearest prototype", 0.7647, 0.9412, 0.634)],
        "calibration_interval": (0.0204, 0.0551),
    }
    figures.update(changes)
    return LearnReport(**figures)


def dialog_for(qtbot, learned: LearnReport) -> YourGenresDialog:
    model = SimpleNamespace(genres=[g.genre for g in learned.genres], report=learned, trained_at=0.0)
    dialog = YourGenresDialog(model)
    qtbot.addWidget(dialog)
    return dialog


def cells(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_the_dialog_shows_every_figure_of_the_report(qtbot):
    dialog = dialog_for(qtbot, report())
    summary = dialog.summary.text()
    assert "Learned 3 genres from 57 tagged files" in summary
    assert "(5 folds), on 34 files" in summary
    # In plain words, each figure with the range it could lie in on 34 tested files.
    assert "<b>82%</b> right first time (somewhere between 69% and 91% on a library this size)" in summary
    assert "<b>97%</b> in the top three (between 88% and 99%)" in summary
    assert "percentages honest to within 3 points on average (between 2 and 6 points)" in summary
    assert ("Classifier: shrinkage LDA (shrinkage 0.5), chosen by cross-validation on your files; the runner-up, "
            "nearest prototype, was right first time for 76% and in the top three for 94%.") in summary
    assert "What would help" not in summary and "few examples" not in summary
    # The exact figures stay at hand.
    assert dialog.exact.text() == ("top-1 agreement 82.3%, top-3 agreement 97.1% on 34 held-out files; expected "
                                   "calibration error 3.1% (90% of resamplings: 2.0%–5.5%); temperature 1.42")
    assert dialog.classifiers.text() == (
        "shrinkage LDA (shrinkage 0.5): 82.3% right first time, 97.1% in the top three, log loss 0.512 (chosen)\n"
        "nearest prototype: 76.5% right first time, 94.1% in the top three, log loss 0.634")
    assert cells(dialog.genres) == [["Soundtrack A", "20", "90%", "85%"], ["Soundtrack B", "15", "62%", "–"],
                                    ["Chiptune", "12", "–", "50%"]]
    assert [dialog.genres.horizontalHeaderItem(c).text() for c in range(4)] == ["Genre", "Files", "Precision",
                                                                                 "Recall"]
    assert cells(dialog.calibration) == [["40%–50%", "6", "46%", "50%"], ["90%–100%", "30", "95%", "93%"]]
    assert "Expected calibration error: <b>3.1%</b> (between 2.0% and 5.5% on a library this size)" in dialog.ece.text()
    assert dialog.ece.text().endswith("how often it was right.")
    assert dialog.chart.bins == report().reliability
    assert dialog.confusions.text() == "Soundtrack B → Soundtrack A (3 files); Chiptune → Soundtrack B (1 file)"
    assert dialog.thin.text() == "Polka (2), Dub (1)"
    assert dialog.junk.text() == "Unknown (5), (empty) (1)"


def test_nothing_held_out_gives_no_agreement_figures_and_says_so(qtbot):
    dialog = dialog_for(qtbot, report(top1=math.nan, top3=math.nan, expected_calibration_error=math.nan,
                                      reliability=[], confusions=[], folds=0, thin={}, junk={}))
    assert "No tagged file could be held out and tested" in dialog.summary.text()
    assert "%" not in dialog.summary.text()
    assert dialog.calibration.rowCount() == 0
    assert dialog.ece.text() == "No calibration figures: no file could be held out and tested."
    assert dialog.confusions.text() == "– (no files were held out)"
    assert (dialog.thin.text(), dialog.junk.text()) == ("none", "none")


def test_figures_from_single_files_and_untested_files_are_explained(qtbot):
    dialog = dialog_for(qtbot, report(grouping="file", untested=3))
    text = dialog.summary.text()
    assert "leaving each file out of training" in text and "promise less for new albums" in text
    assert "3 files could not be tested" in text
    by_album = dialog_for(qtbot, report()).summary.text()
    assert "leaving each album out of training" in by_album
    assert "promise less" not in by_album and "could not be tested" not in by_album


def test_forget_asks_first(qtbot):
    dialog = dialog_for(qtbot, report())
    asked, forgotten = [], []
    dialog.forget_requested.connect(lambda: forgotten.append(True))
    dialog.confirm = lambda question: asked.append(question) or False
    dialog.forget_button.click()
    assert asked and not forgotten
    dialog.confirm = lambda question: asked.append(question) or True
    dialog.forget_button.click()
    assert forgotten == [True]
    assert asked[0] == ("Forget the genres learned from 57 tagged files? Suggestions then come from the bundled "
                        "vocabulary; your files are not touched.")


def test_low_agreement_says_what_would_help(qtbot):
    summary = dialog_for(qtbot, report(top1=0.2)).summary.text()
    assert "<b>20%</b> right first time" in summary
    assert "What would help: " in summary
    # The genre most often taken for another is named, with what to do about it.
    assert ("Soundtrack B was most often taken for Soundtrack A (3 files): if the two are one genre to you, merge "
            "them; if not, tag more files of each") in summary
    assert "tag tracks on more albums of each genre, and learn again." in summary


def test_genres_learned_from_few_files_are_marked_and_named_in_the_advice(qtbot):
    few = report(genres=[GenreFigures("Soundtrack A", 20, 0.9, 0.85), GenreFigures("Polka", 3, 0.5, 0.33),
                         GenreFigures("Dub", 2, None, 0.0)], top3=0.7)
    dialog = dialog_for(qtbot, few)
    assert [row[:2] for row in cells(dialog.genres)] == [["Soundtrack A", "20"], ["Polka", "3 (few examples)"],
                                                          ["Dub", "2 (few examples)"]]
    assert "Tag a few more files" in dialog.genres.item(1, 1).toolTip()
    assert dialog.genres.item(0, 1).toolTip() == ""
    summary = dialog.summary.text()
    assert "<b>70%</b> in the top three" in summary  # under 75%: poor, so the dialog says what would help
    assert ("What would help: tag a few more files of each genre marked few examples (Polka, Dub): each was "
            "learned from fewer than 5 files") in summary


def test_a_small_dialog_scrolls_rather_than_squeezing_its_parts_together(qtbot):
    dialog = dialog_for(qtbot, report(top1=0.2))
    dialog.resize(700, 500)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    assert dialog.height() == 500 and dialog.scroll.verticalScrollBar().maximum() > 0
    # The calibration table, its chart and the sentence under them each keep their room.
    assert dialog.calibration.geometry().bottom() < dialog.chart.geometry().top()
    assert dialog.chart.geometry().bottom() < dialog.ece.geometry().top()
    assert dialog.calibration.height() >= dialog.calibration.minimumHeight() > 60
    assert dialog.exact.height() >= dialog.exact.heightForWidth(dialog.exact.width())
