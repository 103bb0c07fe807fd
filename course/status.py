"""What `course grade` says about a submission: its status, and the notes that explain it.

Every status and every note `course grade` gives a submission is in the two tables below, in
Korean with the English in parentheses. (What the kernel itself says in a cell's output, such as
a library put back before a cell, stays with the code that does it: course/kernel_zygote.py and
course/nbgrader_plugins.py.)
"""
from enum import Enum


class Status(Enum):
    """A submission's status after `course grade`; `str(status)` is its name in CSVs and tables."""

    #        name        Korean and English text
    GRADED = ("graded", "채점됨 (autograded; the notes name anything unusual)")
    FAILED = ("failed", "채점 실패 (grading itself failed; the note gives the reason)")
    MISSING = ("missing", "제출 없음 (no notebook submitted)")
    EMPTY = ("empty", "빈 파일 (the notebook file is empty)")
    CORRUPT = ("corrupt", "노트북이 아님 (the file is not a readable notebook)")
    FLAGGED = ("flagged", "검토 필요: 점수를 조작할 수 있는 코드가 있음 (flagged: the student's code does what "
                          "only a forged score needs; the score is withheld until you accept or reject it)")
    MANUAL = ("manual", "채점자 확인 필요 (autograded, but some answer cells could not be recognised: "
                        "check them by hand)")

    def __init__(self, label, text):
        self.label = label
        self.text = text

    def __str__(self):
        return self.label


class Note(Enum):
    """A note on a submission; `note.say(detail)` gives the line, with the cells or file names
    it concerns as `detail`."""

    # intake: what the student's file looked like
    NO_NOTEBOOK = "제출된 노트북이 없습니다 (no {lesson}.ipynb submitted)"
    RENAMED = "이름이 다른 노트북을 채점함 (renamed notebook graded)"
    SEVERAL_NOTEBOOKS = "{lesson}.ipynb가 없고 노트북이 여러 개입니다 (several notebooks, none named {lesson}.ipynb)"
    EXTRA_FILES = "다른 파일은 무시함 (extra files ignored)"
    EMPTY_FILE = "빈 파일입니다 (empty notebook file)"
    NOT_JSON = "JSON이 아닙니다 (not JSON)"
    NOT_A_NOTEBOOK = "노트북 형식이 아닙니다 (not a notebook)"
    NOT_REGULAR = "링크나 특수 파일은 받지 않습니다 (a symlink or special file is not taken in)"
    UNKNOWN_GRADE_ID = "바뀐 grade_id는 일반 셀로 실행함 (unknown grade_id)"
    DUPLICATED_CELL = "복제된 셀은 일반 셀로 실행함 (duplicated graded cell)"
    EDITED_LOCKED = "수정된 잠긴 셀을 원래대로 되돌림 (edited locked cell restored)"
    DELETED_TEST = "지워진 채점 셀을 되살려 채점함 (deleted test cell restored)"
    DELETED_CELL = "지워진 셀 (deleted cell)"
    GLOB_IN_NAME = ("폴더 이름에 *, ?, [, ] 가 있어 채점하지 않음, 이름을 바꾸세요 "
                    "(nbgrader reads these characters as a file pattern: rename the folder)")
    NAME_NOT_USABLE = ("폴더 이름이 점으로 시작하거나, 앞뒤에 공백이 있거나, 줄바꿈이나 보이지 않는 문자가 있어 "
                       "채점하지 않음, 이름을 바꾸세요 "
                       "(refused: a name nbgrader would skip or strip, or with an invisible character that "
                       "makes it look like another: rename the folder)")
    METADATA_RESTORED = "채점 정보가 없는 셀을 찾아 채점함 (graded cell recognised without its metadata)"
    ANSWER_NOT_FOUND = "답안 셀을 찾지 못함, 직접 확인하세요 (answer cell not found: grade by hand)"
    # diagnosis: what happened in the student's cells
    TIMEOUT = "시간 초과 (timeout)"
    KERNEL_DIED = "커널 종료 (kernel died)"
    MEMORY = "메모리 초과 (memory limit)"
    SYNTAX_ERROR = "문법 오류 (syntax error)"
    NOT_ANSWERED = "답하지 않음 (not answered)"
    EXCEPTION = "오류 (exception {ename})"
    OUTPUT_TRUNCATED = "출력이 너무 많아 잘림 (output flood truncated)"
    KERNEL_RESTARTED = "커널을 다시 시작해 다시 실행함 (kernel restarted, cell rerun)"
    PROCESSES_LEFT = "셀이 프로세스를 남겨 커널을 다시 시작함 (processes left behind, kernel restarted)"
    # grading
    FEEDBACK_FAILED = "피드백 생성 실패 (feedback failed)"
    JOB_FAILED = "채점 작업 오류 (grading job raised)"
    FLAGGED_CODE = "점수 조작이 의심되는 코드 (code flagged for review)"
    SHARED_FILE = "다른 학생의 제출과 같은 파일, 검토 필요 (flagged for review)"
    CHANGED_LIBRARIES = ("채점에 쓰는 라이브러리를 셀의 코드가 바꿈, 검토 필요 (the student's code changed the "
                         "libraries the checks use: flagged for review)")
    WORKER_DIED = "채점 프로세스가 두 번 죽음 (the grading worker process died, twice)"
    TIME_LIMIT = "채점 전체가 시간 한도를 넘어 중단됨 (the whole autograde ran past its time limit)"

    def say(self, detail="", **fields):
        """The note's line: its text with `fields` filled in, then ": detail" if any."""
        text = self.value.format(**fields)
        return f"{text}: {detail}" if detail else text


# What the grader writes into a student's notebook (the student sees these in the feedback).
KERNEL_DIED = "KernelDied"  # the ename of the error output of a cell in which the kernel died
OUTPUT_TRUNCATED = "[출력이 너무 많아 나머지는 버렸습니다 (output truncated by the grader)]"
KERNEL_RESTARTED = ("[커널이 죽어 다시 시작하고 이 셀을 다시 실행했습니다 "
                    "(the kernel died; restarted and ran this cell again)]")
PROCESSES_LEFT = ("[이 셀이 만든 프로세스 {count}개가 남아 커널을 다시 시작했습니다 "
                  "(the cell left {count} processes behind; the kernel was restarted)]")
KERNEL_DIED_IN_CELL = ("이 셀을 실행하다 커널이 죽었습니다: os._exit, 세그폴트(segfault), 메모리나 "
                       "프로세스 한도 초과 (the kernel died in this cell)")
SKIPPED_AFTER_DEATHS = ("커널이 {deaths}번 죽어 이 셀은 실행하지 않았습니다 "
                        "(skipped after repeated kernel deaths)")
HIDDEN_TESTS_PLACEHOLDER = "# (숨겨진 테스트 / hidden tests)"
FEEDBACK_PLAIN = "피드백이 너무 커서 글자만 보여 줍니다 (the feedback page was too large: shown as plain text)"
HIDDEN_LINE_REMOVED = "[숨겨진 테스트의 줄이라 지웠습니다 (a line of a hidden test, removed)]"
OUTPUT_NOT_SHOWN = "(브라우저에서 실행될 출력이라 보여 주지 않습니다: output not shown, it would run in the browser)"
CELL_WOULD_NOT_STOP = ("시간 안에 끝나지 않고 중단해도 멈추지 않았거나, 읽을 수 없을 만큼 큰 출력을 보내 커널을 "
                       "다시 시작했습니다 (the cell did not stop when interrupted after the timeout, or sent "
                       "an output too large to read; the kernel was restarted)")
CELL_CPU_LIMIT = ("이 셀이 만든 프로세스들이 함께 CPU 시간 한도({seconds}초)를 넘어 모두 끝내고 커널을 다시 "
                  "시작했습니다 (the cell's processes used more than {seconds} s of CPU time together: "
                  "{used} s counted; they were ended and the kernel restarted)")
UNREADABLE_MESSAGE = ("커널이 채점기가 읽을 수 없는 메시지를 보내 커널을 다시 시작했습니다 "
                      "(the kernel sent a message the grader could not read: {error}; restarted)")
NOTEBOOK_TIME_LIMIT = ("노트북 전체의 실행 시간 한도({seconds}초)를 넘어 이 셀은 실행하지 않았습니다 "
                       "(not run: the notebook's time limit was reached)")
CHECK_TIMED_OUT = ("채점 셀이 부른 답이 시간({seconds}초) 안에 끝나지 않아 커널을 다시 시작했습니다 "
                   "(an answer the test cell called did not finish within {seconds} s; the kernel was restarted)")
ANSWERS_UNREADABLE = ("채점기가 커널에서 답을 읽지 못했습니다: {reason} "
                      "(the grader could not read the answers from the kernel)")
